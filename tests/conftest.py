"""Shared fixtures: real FER2013 data read through FER2013_PATH (CI points it at ../shared/data/fer2013.npz).

Helpers shared by the tests and the benchmarks live in tests/helpers/.
"""

from __future__ import annotations

import dataclasses
import os

import pytest

from ferbot.classify.model import ModelConfig
from tests.helpers.cli import stop_leftover_bots
from tests.helpers.data import fer2013_path
from tests.helpers.requires import unavailable
from train.config import TrainConfig
from train.configs import load_recipe

# A command a test starts that dies of a native crash (a segfault, glibc's abort on a double free) prints every
# thread's Python stack in its output, which the failing assertion shows: where it died, not only that it did.
os.environ.setdefault("PYTHONFAULTHANDLER", "1")


@pytest.fixture(autouse=True)
def ferplus_votes_given(request):
    """A test marked ferplus is unavailable (skipped, saying so; failed under CI) where FER2013_PATH names data
    without the FER+ crowd's votes: Kaggle's fer2013.csv or the image-folder release."""
    if request.node.get_closest_marker("ferplus") and request.getfixturevalue("fer2013").train.ferplus is None:
        unavailable("needs the FER+ crowd's votes: point FER2013_PATH at fer2013.npz, which carries them")


@pytest.fixture(autouse=True)
def no_bot_left_running():
    """Each test's bots (tests.helpers.cli.started_ferbot) end with it, even when it fails."""
    yield
    stop_leftover_bots()


@pytest.fixture(scope="session")
def default_classifier():
    """The shipped default classifier, loaded once: its jitted batch sizes compile once for all the tests."""
    from ferbot import EmotionClassifier

    return EmotionClassifier.load()


@pytest.fixture(scope="session")
def fer2013():
    from train.data import load_fer2013

    return load_fer2013(fer2013_path())


@pytest.fixture(scope="session")
def small_fer(fer2013):
    """The first rows of each official split: 3,000 train, 600 PublicTest, 600 PrivateTest."""
    from train.data import FER2013

    return FER2013(fer2013.train.subset(3000), fer2013.val.subset(600), fer2013.test.subset(600),
                   fer2013.source, fer2013.official_split)


@pytest.fixture(scope="session")
def tiny_config() -> TrainConfig:
    """The tiny recipe made a little wider, at batch 64 and a faster warm-up: it learns within a few epochs of 3,000
    images (the tests check behaviour, not accuracy)."""
    return dataclasses.replace(load_recipe("tiny"), model=ModelConfig(widths=(16, 32, 64), dense=64, dropout=0.2),
                               batch_size=64, lr=3e-3, warmup_epochs=0.5)
