"""`--demo`: a synthetic meeting gallery of the shipped demo faces; needs no display and no download."""

from __future__ import annotations

import math
from importlib import resources

import cv2
import numpy as np

from ferbot.capture.base import Frame, LiveFrames, SourceError
from ferbot.capture.gallery import draw_name_tags, empty_gallery, fit_picture, gallery_tiles, paste_picture

DEMO_NAMES = ("Alex", "Sam", "Robin", "Kim", "Jo", "Max", "Charlie", "Noa", "Eli")
DRIFT_PX = 10  # how far a participant sways, like a person sitting in front of a webcam


def demo_pictures() -> list[np.ndarray]:
    """The shipped demo portraits as RGB arrays."""
    folder = resources.files("ferbot") / "assets" / "demo_faces"
    pictures = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".jpg"):
            data = np.frombuffer(entry.read_bytes(), np.uint8)
            pictures.append(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))
    if not pictures:
        raise SourceError(f"no demo faces in {folder}; reinstall ferbot")
    return pictures


class DemoSource:
    """A 3x3 gallery (the six portraits, three of them mirrored) whose participants sway gently."""

    recorded = False

    def __init__(self, size: tuple[int, int] = (1920, 1080)):
        portraits = demo_pictures()
        portraits += [p[:, ::-1] for p in portraits][: len(DEMO_NAMES) - len(portraits)]
        self._tiles = gallery_tiles(len(portraits), size)
        self._background = empty_gallery(self._tiles, size)
        self._pictures = [fit_picture(p, tile) for p, tile in zip(portraits, self._tiles)]
        self._frames = LiveFrames()

    def read(self) -> Frame:
        """The gallery as it is now: each participant swayed by the frame's time."""
        frame = self._frames.next(self._background.copy())
        t = frame.timestamp
        for i, (picture, tile) in enumerate(zip(self._pictures, self._tiles)):
            offset = DRIFT_PX * math.sin(0.7 * t + i), DRIFT_PX / 2 * math.sin(0.5 * t + 2 * i)
            paste_picture(frame.image, picture, tile, offset)
        draw_name_tags(frame.image, DEMO_NAMES, self._tiles)
        return frame

    def close(self) -> None:
        pass
