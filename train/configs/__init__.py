"""Named training recipes: one module per recipe in this folder, each defining `CONFIG: TrainConfig`.

`python -m train --config NAME` starts from `train/configs/NAME.py`, and each hyper-parameter flag then overrides
one field of it. A new recipe is a new module here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from train.config import ConfigError, TrainConfig

DEFAULT_RECIPE = "default"


def recipe_names() -> list[str]:
    """The recipes in train/configs/, sorted by name."""
    return sorted(p.stem for p in Path(__file__).parent.glob("*.py") if not p.stem.startswith("_"))


def load_recipe(name: str) -> TrainConfig:
    """Recipe `name`'s config; a ConfigError listing the recipes when there is none by that name."""
    names = recipe_names()
    if name not in names:
        raise ConfigError(f"--config {name}: no such recipe; choose from {', '.join(names)} (train/configs/)")
    config = importlib.import_module(f"{__name__}.{name}").CONFIG
    if not isinstance(config, TrainConfig):
        raise TypeError(f"train/configs/{name}.py: CONFIG must be a TrainConfig, not {type(config).__name__}")
    return config
