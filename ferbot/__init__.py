"""ferbot ("FER Cam"): reads the room in a video meeting and republishes it as a virtual camera."""

from ferbot.emotions import CLASS_NAMES

__all__ = ["CLASS_NAMES", "EmotionClassifier"]


def __getattr__(name: str):
    """`ferbot.EmotionClassifier`, imported when first asked for: the report reads logs without JAX."""
    if name == "EmotionClassifier":
        from ferbot.classify import EmotionClassifier

        return EmotionClassifier
    raise AttributeError(f"module 'ferbot' has no attribute {name!r}")
