"""ferbot ("FER Cam"): reads the room in a video meeting and republishes it as a virtual camera."""

from ferbot.classify import EmotionClassifier
from ferbot.emotions import CLASS_NAMES

__all__ = ["CLASS_NAMES", "EmotionClassifier"]
