"""The synthetic meeting the live-bot benchmarks run: a 1920x1080 gallery of real faces, read as a live screen."""

from __future__ import annotations

import cv2
import numpy as np

from ferbot.bot import BotOptions
from ferbot.capture.base import Frame, LiveFrames
from ferbot.capture.demo import demo_pictures
from tests.helpers.screens import compose_gallery

SCREEN = (1920, 1080)
OUTPUT = BotOptions.size  # the feed, as ferbot sends it by default
# (dx, dy) px, frame after frame; seven, so an analysis rate that divides 30 fps never sees the same one twice
SWAY = ((0, 0), (2, 1), (4, 3), (3, 4), (1, 2), (-1, 0), (-2, -1))


def pictures(kind: str, count: int, fer2013_path: str | None = None) -> list[np.ndarray]:
    """`count` face pictures: the demo portraits and their mirror images ("demo"), or FER2013 Training faces
    ("fer2013", from `fer2013_path`; where the data has the FER+ votes, those whose majority is one of the seven
    classes, so no picture the crowd calls no face)."""
    if kind == "fer2013":
        from train.data import load_fer2013
        from train.targets import ferplus_majority

        train = load_fer2013(fer2013_path).train
        faces = train.images if train.ferplus is None else train.images[ferplus_majority(train.ferplus) >= 0]
        return list(faces[:count])
    portraits = demo_pictures()
    portraits += [p[:, ::-1] for p in portraits]
    return [portraits[i % len(portraits)] for i in range(count)]


def gallery_screen(faces: list[np.ndarray]) -> np.ndarray:
    """A meeting screen with one named tile per face."""
    return compose_gallery(faces, SCREEN, names=[f"Student {i + 1}" for i in range(len(faces))]).image


class MeetingScreen:
    """A live screen: a new, slightly different picture on each read (faces sway a few pixels), converted from
    the BGRA a screen grab returns, like ScreenSource; `paused` shows the same picture every time."""

    recorded = False

    def __init__(self, image: np.ndarray, paused: bool = False):
        shifts = SWAY[:1] if paused else SWAY
        self._frames = [cv2.cvtColor(np.roll(image, (dy, dx), axis=(0, 1)), cv2.COLOR_RGB2BGRA) for dx, dy in shifts]
        self._live = LiveFrames()
        self._read = 0

    def read(self) -> Frame:
        self._read += 1
        grab = self._frames[self._read % len(self._frames)]
        return self._live.next(cv2.cvtColor(grab, cv2.COLOR_BGRA2RGB))

    def close(self) -> None:
        pass
