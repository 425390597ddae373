"""A live meeting that changes like a real lesson: participants sway, the app reorders the tiles now and then, a
student leaves and comes back, one has the camera off, and two show the same name.

Frames come from `frame_at(t)` (any time, for tests that step a clock) or `read()` (real time, as a Source). Each
layout's screen is drawn once; a frame only pastes the pictures, moved a few pixels and a little brighter or
darker, so that making the screen costs the process little beside the bot it feeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.capture.base import Frame
from ferbot.capture.demo import demo_pictures
from ferbot.capture.gallery import empty_gallery, fit_picture, gallery_tiles, paste_picture
from ferbot.clock import Stopwatch
from ferbot.geometry import Rect
from tests.helpers.faces import PHOTO_FACES, photo
from tests.helpers.nametags import camera_off, draw_tag

# The participants: twelve with video (the demo portraits and the test photographs), two of them both called
# "Chen Wei", and one without a camera.
NAMES = ("Ana García", "王小明", "Chen Wei", "Zoë Müller", "佐藤花子", "Chen Wei", "Tomás Ruiz", "李静怡",
         "Søren Ødegård", "Łukasz Wójcik", "鈴木一郎", "Renée Noël")
CAMERA_OFF = "Jiří Dvořák"
DRIFT_PX = 8


@dataclass(frozen=True)
class Lesson:
    """How the meeting changes: the tiles are shuffled every `reorder_s` seconds; participant `leaver` is away for
    the last `away_s` seconds of every `away_cycle_s`."""

    reorder_s: float = 60.0
    leaver: int = 3
    away_cycle_s: float = 600.0
    away_s: float = 120.0
    style: str = "zoom"
    size: tuple[int, int] = (1920, 1080)
    seed: int = 0


class LiveMeeting:
    """A Source of a changing gallery (see the module's notes)."""

    recorded = False

    def __init__(self, lesson: Lesson = Lesson()):
        self.lesson = lesson
        pictures = demo_pictures() + [photo(name) for name in PHOTO_FACES]
        self.people = list(zip(NAMES, pictures[:len(NAMES)]))
        self._layouts: dict[tuple, tuple[np.ndarray, list[tuple[np.ndarray, Rect]], list[Rect]]] = {}
        self._clock = Stopwatch()
        self._index = 0

    def order(self, t: float) -> list[int]:
        """The participants on screen at time t, in tile order (-1: the one without a camera)."""
        lesson = self.lesson
        present = [i for i in range(len(self.people))
                   if i != lesson.leaver or t % lesson.away_cycle_s < lesson.away_cycle_s - lesson.away_s]
        present.append(-1)
        shuffle = int(t // lesson.reorder_s)
        if shuffle == 0:
            return present
        return [present[k] for k in np.random.default_rng((lesson.seed, shuffle)).permutation(len(present))]

    def name(self, who: int) -> str:
        return CAMERA_OFF if who < 0 else self.people[who][0]

    def tiles(self, t: float) -> dict[int, Rect]:
        """Where each participant's tile is at time t."""
        order = self.order(t)
        return dict(zip(order, gallery_tiles(len(order), self.lesson.size)))

    def frame_at(self, t: float) -> np.ndarray:
        """The screen at time t."""
        background, pictures, tiles = self._layout(tuple(self.order(t)))
        screen = background.copy()
        for k, (picture, tile) in enumerate(pictures):
            offset = DRIFT_PX * math.sin(0.7 * t + k), DRIFT_PX / 2 * math.sin(0.5 * t + 2 * k)
            light = 1.0 + 0.08 * math.sin(0.9 * t + 3 * k)
            paste_picture(screen, cv2.convertScaleAbs(picture, alpha=light), tile, offset)
        for tile in tiles:
            _paste_tag(screen, background, tile)
        return screen

    def _layout(self, order: tuple) -> tuple[np.ndarray, list[tuple[np.ndarray, Rect]], list[Rect]]:
        """The screen without pictures (tiles, tags, the camera-off tile), the fitted pictures and the tiles."""
        if order not in self._layouts:
            tiles = gallery_tiles(len(order), self.lesson.size)
            background = empty_gallery(tiles, self.lesson.size)
            pictures = []
            for who, tile in zip(order, tiles):
                if who < 0:
                    camera_off(background, tile, CAMERA_OFF)
                else:
                    pictures.append((fit_picture(self.people[who][1], tile, 0.75), tile))
                draw_tag(background, tile, self.name(who), self.lesson.style)
            self._layouts = {order: (background, pictures, tiles)}  # one layout at a time: memory stays flat
        return self._layouts[order]

    def read(self) -> Frame:
        t = self._clock.now()
        frame = Frame(self.frame_at(t), t, self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        pass


def _paste_tag(screen: np.ndarray, background: np.ndarray, tile: Rect) -> None:
    """The tile's tag, from the layout's screen, over whatever a picture put there."""
    x, y, w, h = tile.as_int()
    band = max(24, round(0.16 * h))
    screen[y + h - band:y + h, x:x + w // 2] = background[y + h - band:y + h, x:x + w // 2]
