"""A small, fast network for tests and smoke runs (a few seconds per epoch on a few hundred images), not accuracy."""

from ferbot.classify.model import ModelConfig
from train.config import TrainConfig

CONFIG = TrainConfig(model=ModelConfig(widths=(8, 16, 16), dense=16), batch_size=32, epochs=2)
