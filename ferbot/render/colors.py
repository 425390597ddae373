"""One colour per emotion (RGB), and legible text on it."""

from __future__ import annotations

from ferbot.emotions import CLASS_NAMES

EMOTION_COLORS: dict[str, tuple[int, int, int]] = dict(zip(CLASS_NAMES, (
    (230, 40, 40),  # Angry
    (110, 170, 40),  # Disgust
    (160, 90, 220),  # Fear
    (255, 205, 30),  # Happy
    (40, 110, 235),  # Sad
    (255, 130, 20),  # Surprise
    (175, 175, 175),  # Neutral
), strict=True))


def text_color_on(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on the background."""
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)
