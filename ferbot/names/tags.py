"""Which name each tile of a meeting screen shows, read from its name tag at the bottom left, sparingly.

A tile's tag is read in the analysis that first sees the tile, again as soon as the letters where its name was
read look different (the meeting app moved another participant into the tile), and otherwise every REREAD_S
seconds, at most REFRESH_PER_S such refreshes a second over the whole screen, so a large gallery costs no more
than a small one. A tile where no name was read is only looked at again by those refreshes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.geometry import Rect, iou_matrix
from ferbot.names.ocr import TagOCR

log = logging.getLogger(__name__)

TAG_HEIGHT = 0.2  # of the tile's height: the strip along its bottom edge that holds the name tag ...
TAG_WIDTH = 0.75  # ... and of its width, from the left edge
MIN_TAG_PX = 24  # the strip is never lower than this
READ_HEIGHT = 48  # px: strips lower than this are enlarged to it before reading (small tiles, small letters)
REREAD_S = 5.0  # an unchanged tag is read again after this long ...
REFRESH_PER_S = 1.0  # ... one tile at a time, at most this many a second
BRIGHT = 190  # grey level from which a pixel may be a tag's letters (white or light grey on every app)
LOOK_SIZE = (48, 8)  # the letters' outline compared between analyses: bright share per cell
CHANGED = 0.25  # change of that outline, as a share of its letters, from which the tag is taken to be another
SAME_TILE = 0.8  # overlap (IoU) from which a tile is the one at the same place on the last screen


@dataclass(frozen=True)
class NameTag:
    """The name read on a tile ('' when its tag could not be read)."""

    tile: Rect
    name: str


@dataclass(frozen=True)
class _Read:
    name: str
    box: Rect | None  # where the name was, in the strip's pixels
    look: np.ndarray  # the outline of the letters there
    at: float


def tag_strip(tile: Rect) -> Rect:
    """Where a tile's name tag sits: the lower left of the tile."""
    height = min(tile.h, max(MIN_TAG_PX, TAG_HEIGHT * tile.h))
    return Rect(tile.x, tile.y2 - height, TAG_WIDTH * tile.w, height)


def strip_pixels(image: np.ndarray, tile: Rect) -> np.ndarray:
    """The tag strip of a tile, cut from an RGB screen."""
    x, y, w, h = tag_strip(tile).clipped(image.shape[1], image.shape[0]).as_int()
    return image[y:y + h, x:x + w]


def tag_look(strip: np.ndarray, box: Rect | None) -> np.ndarray:
    """A small outline of the bright pixels inside `box` of the strip (None: all of it), to tell one name from
    another cheaply."""
    if box is not None:
        x, y, w, h = box.clipped(strip.shape[1], strip.shape[0]).as_int()
        strip = strip[y:y + h, x:x + w]
    if strip.size == 0:
        return np.zeros(LOOK_SIZE[::-1], np.float32)
    bright = (cv2.cvtColor(strip, cv2.COLOR_RGB2GRAY) >= BRIGHT).astype(np.float32)
    return cv2.resize(bright, LOOK_SIZE, interpolation=cv2.INTER_AREA)


def changed(before: np.ndarray, now: np.ndarray) -> bool:
    """Whether a tag's outline changed by more than CHANGED of its letters (another name there)."""
    letters = max(float(before.sum()), float(now.sum()), 1.0)
    return float(np.abs(now - before).sum()) / letters > CHANGED


class NameReader:
    """The names on a screen's tiles, each tag read only when needed (see the module's notes)."""

    def __init__(self, ocr: TagOCR | None = None, reread_s: float = REREAD_S, refresh_per_s: float = REFRESH_PER_S):
        self.ocr = ocr or TagOCR()
        self.reread_s, self.refresh_per_s = reread_s, refresh_per_s
        self.reads = 0  # tags read so far, and the seconds they took (benchmarks)
        self.read_s = 0.0
        self._tiles: list[Rect] = []  # the tiles of the last screen, and what was read on each
        self._seen: list[_Read] = []
        self._last_refresh = -np.inf

    def read(self, image: np.ndarray, tiles: Sequence[Rect], timestamp: float) -> list[NameTag]:
        """The name on each tile, in the order of `tiles`; tiles no longer on screen are forgotten."""
        strips = [strip_pixels(image, tile) for tile in tiles]
        seen = []
        for before, strip in zip(self._previous(tiles), strips):
            if before is None or (before.name and changed(before.look, tag_look(strip, before.box))):
                before = self._read(strip, timestamp)
            seen.append(before)
        self._tiles, self._seen = list(tiles), seen
        self._refresh_oldest(strips, timestamp)
        return [NameTag(tile, read.name) for tile, read in zip(tiles, self._seen)]

    def _previous(self, tiles: Sequence[Rect]) -> list[_Read | None]:
        """What was read on each tile at the last screen (the same tile: overlapping it by SAME_TILE or more)."""
        if not self._tiles or not tiles:
            return [None] * len(tiles)
        overlap = iou_matrix(list(tiles), self._tiles)
        best = overlap.argmax(axis=1)
        return [self._seen[b] if overlap[t, b] >= SAME_TILE else None for t, b in enumerate(best)]

    def _refresh_oldest(self, strips: list[np.ndarray], timestamp: float) -> None:
        """Read the tag read longest ago again, when that was over reread_s ago and no refresh is due yet."""
        if not self._seen or timestamp - self._last_refresh < 1.0 / self.refresh_per_s:
            return
        oldest = min(range(len(self._seen)), key=lambda i: self._seen[i].at)
        if timestamp - self._seen[oldest].at >= self.reread_s:
            self._seen[oldest] = self._read(strips[oldest], timestamp)
            self._last_refresh = timestamp

    def _read(self, strip: np.ndarray, timestamp: float) -> _Read:
        """Read a strip's tag (enlarged first when its letters are small)."""
        start = time.perf_counter()
        scale = READ_HEIGHT / strip.shape[0] if 0 < strip.shape[0] < READ_HEIGHT else 1.0
        big = cv2.resize(strip, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else strip
        name, box = self.ocr.read(big) if strip.size else ("", None)
        box = box.scaled(1 / scale) if box is not None else None
        self.reads += 1
        self.read_s += time.perf_counter() - start
        return _Read(name, box, tag_look(strip, box), timestamp)
