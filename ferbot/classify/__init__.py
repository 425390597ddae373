"""Classify: the emotion CNN, its checkpoints, and the jitted EmotionClassifier."""

from ferbot.classify.classifier import EmotionClassifier

__all__ = ["EmotionClassifier"]
