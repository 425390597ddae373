"""The model card's description of the network it was written for."""

from __future__ import annotations

from ferbot.classify.model import ModelConfig
from train.model_card import architecture_description


def test_the_card_describes_the_network_as_configured():
    """Stages, widths and convolutions per stage as configured; squeeze-and-excitation only where it is on."""
    plain = architecture_description(ModelConfig(widths=(8, 16, 32), convs_per_stage=3, squeeze_excite=0))
    assert "3 stages (8, 16, 32 channels) of 3 x 3x3 conv" in plain and "squeeze" not in plain
    excited = architecture_description(ModelConfig(squeeze_excite=4))
    assert "4 stages (32, 64, 160, 320 channels)" in excited and "squeeze-and-excitation (reduction 4)" in excited
