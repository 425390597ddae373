"""The detection models shipped inside the package (ferbot/assets/models)."""

from __future__ import annotations

from importlib import resources


def model_bytes(name: str) -> bytes:
    """The model file `name` from ferbot/assets/models of the installed package, as bytes."""
    return (resources.files("ferbot") / "assets" / "models" / name).read_bytes()
