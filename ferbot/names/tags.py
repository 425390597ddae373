"""Which name each tile of a meeting screen shows, read from its name tag at the bottom left, sparingly.

A tile's tag is read in the analysis that first sees the tile, again as soon as the tile changes (the meeting app
moved another participant into it: its picture, shrunk to a few pixels, or the letters where its name was read
look different, or letters appear on the plain tag just after them: "Sam" and "Samantha Lee" swapped), and
otherwise every REREAD_S seconds, at most REFRESH_PER_S such refreshes a second over the whole
screen, so a large gallery costs no more than a small one. A tile where no name was read is read again when its
picture changes, and otherwise only by those refreshes; a refresh that reads nothing on a named tile keeps its
name (its letters are still there, or the tile would have been read already). A screen where no tile was found
changes nothing. A tag the usual strip cuts (one twice as large, on a screen scaled to 200%) is read in a taller
strip, and the tile is then read there.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from ferbot.geometry import SAME_TILE_IOU, Rect, iou_matrix
from ferbot.names.ocr import TagOCR

log = logging.getLogger(__name__)

TAG_HEIGHT = 0.2  # of the tile's height: the strip along its bottom edge that holds the name tag ...
TAG_WIDTH = 0.75  # ... and of its width, from the left edge (all of it where a long name reaches further)
MIN_TAG_PX = 32  # the strip is never lower than this (24 cut Meet's 12-px letters in a tile found 2 px low)
# Where a name read reaches within CUT_PX of the strip's top, or nothing is read, the strip may have cut the tag (one
# twice as large, on a screen scaled to 200%: 4K on Windows or Linux), and a taller one is read: TALL_TAG_HEIGHT of
# the tile's height, up to TALL_TAG_PX (a tag with its box at 200%, 50 px, with room to spare), where that is
# TALLER_PX or more taller than the usual strip
CUT_PX = 2
TALL_TAG_HEIGHT = 0.3
TALL_TAG_PX = 64
TALLER_PX = 4
READ_HEIGHT = 48  # px: strips lower than this are enlarged to it before reading (small tiles, small letters)
REREAD_S = 5.0  # an unchanged tag is read again after this long ...
REFRESH_PER_S = 1.0  # ... one tile at a time, at most this many a second
LOOK_MARGIN = 4  # px a tag may shift (a tile found a pixel or two off) and still hold the letters read
SAME_LETTERS = 0.95  # correlation from which the letters of a tag are still the ones read ...
STROKE_RMS = 25.0  # ... or grey levels (root mean square) within which their strokes alone still are
STROKE_SPREAD = 20  # grey levels below a name's lightest pixel that are still its strokes ...
STROKE_CONTRAST = 40  # ... where this much lighter than their 3x3 surroundings (thin: a light picture is not)
MIN_STROKES = 20  # fewer such thin light pixels than this (large letters): the light pixels alone
TILE_LOOK = (16, 9)  # px: the tile's picture, shrunk, ...
TILE_CHANGED = 30.0  # ... changed by this many grey levels on average: another participant
TAIL_HEIGHTS = 2.0  # the tag just after a name, this many times its letters' height wide, ...
TAIL_PLAIN = 8.0  # ... watched where it was plain (a standard deviation under this many grey levels) ...
TAIL_WRITTEN = 8.0  # ... for letters that change it by this many grey levels on average, its brightness aside
# An unchanged tile shows the name most read in its last this many readings: a misreading now and then is outvoted,
# and a change the tile's look missed (two names a letter apart swapped) shows after two refreshes, however long
# the tile was unchanged before
VOTE_READINGS = 3


@dataclass(frozen=True)
class NameTag:
    """The name read on a tile ('' when its tag could not be read)."""

    tile: Rect
    name: str


@dataclass(frozen=True)
class _Read:
    name: str
    box: Rect | None  # where the name was, in the strip's pixels
    letters: np.ndarray  # the grey pixels there
    tile_look: np.ndarray  # the tile's picture, shrunk
    at: float
    tail: np.ndarray  # the plain tag just after the name (plain_tail), else empty
    whole: bool = False  # read in a strip of the tile's whole width (tag_strip)
    tall: bool = False  # read in the tall strip (tag_strip)
    readings: tuple[str, ...] = ()  # the names last read on the tile since it last changed, VOTE_READINGS at most


def tag_strip(tile: Rect, whole: bool = False, tall: bool = False) -> Rect:
    """Where a tile's name tag sits: the lower left of the tile, or, `whole`, all along its bottom; `tall`, a taller
    strip for a tag larger than the usual one holds (a small tile's on a screen scaled to 200%)."""
    height = max(MIN_TAG_PX, TAG_HEIGHT * tile.h, min(TALL_TAG_HEIGHT * tile.h, TALL_TAG_PX) if tall else 0)
    height = min(tile.h, height)
    return Rect(tile.x, tile.y2 - height, tile.w if whole else TAG_WIDTH * tile.w, height)


def strip_pixels(image: np.ndarray, tile: Rect, whole: bool = False, tall: bool = False) -> np.ndarray:
    """The tag strip of a tile (tag_strip), cut from an RGB screen."""
    return tag_strip(tile, whole, tall).pixels(image)


def tile_look(image: np.ndarray, tile: Rect) -> np.ndarray:
    """The tile's picture, shrunk to TILE_LOOK and grey."""
    picture = tile.pixels(image)
    if picture.size == 0:
        return np.zeros(TILE_LOOK[::-1], np.float32)
    small = cv2.resize(picture, TILE_LOOK, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _grey(strip: np.ndarray, box: Rect, margin: int = 0) -> np.ndarray:
    """The grey pixels of `box` (grown by `margin` on every side) in the strip."""
    part = Rect(box.x - margin, box.y - margin, box.w + 2 * margin, box.h + 2 * margin).pixels(strip)
    return cv2.cvtColor(part, cv2.COLOR_RGB2GRAY) if part.size else np.zeros((0, 0))


def look_margin(box: Rect) -> int:
    """How far in from the sides of the box where a name was read its letters are kept: LOOK_MARGIN pixels, or a
    quarter of the box's height or width where that is less, so that low letters still leave a template."""
    return min(LOOK_MARGIN, int(min(box.w, box.h) // 4))


def letters_moved_away(letters: np.ndarray, strip: np.ndarray, box: Rect) -> bool:
    """Whether the letters read at `box` are no longer there: nowhere within look_margin pixels of where they were
    does the strip match them (normalised correlation under SAME_LETTERS), nor their strokes alone
    (_strokes_still_there). `letters` are the middle of the box,
    look_margin pixels in from its sides, so that a shifted tag is still wholly inside the box. Without letters to
    compare (a box too small), they have not moved."""
    if letters.size == 0:
        return False
    around = _grey(strip, box)
    if around.shape[0] < letters.shape[0] or around.shape[1] < letters.shape[1]:
        return True
    if float(cv2.matchTemplate(around, letters, cv2.TM_CCOEFF_NORMED).max()) >= SAME_LETTERS:
        return False
    return not _strokes_still_there(letters, around)


def _tail(box: Rect) -> Rect:
    """The part of a tag strip just after the name read at `box`, from a quarter of its height past its end (clear
    of the last letter's soft edge)."""
    return Rect(box.x2 + box.h / 4, box.y, TAIL_HEIGHTS * box.h, box.h)


def plain_tail(strip: np.ndarray, box: Rect) -> np.ndarray:
    """The grey pixels of the strip just after the name read at `box`, where they are plain (a camera-off tile's
    background, a tag's box); empty where a picture shows there (Meet draws names over the video), which changes
    as the student moves."""
    tail = _grey(strip, _tail(box))
    return tail if tail.size and float(tail.std()) < TAIL_PLAIN else np.zeros((0, 0))


def letters_added(tail: np.ndarray, strip: np.ndarray, box: Rect) -> bool:
    """Whether letters now follow the name read at `box` where the tag was plain (`tail`, from plain_tail): the
    tile shows a longer name that starts as the one read ("Sam", now "Samantha Lee")."""
    if not tail.size:
        return False
    now = _grey(strip, _tail(box)).astype(float)
    if now.shape != tail.shape:
        return False
    # each less its mean: a webcam's exposure drifting behind a name over the video (Meet) is no letters
    return float(np.abs((now - now.mean()) - (tail - tail.mean())).mean()) > TAIL_WRITTEN


def _strokes_still_there(letters: np.ndarray, around: np.ndarray) -> bool:
    """Whether the letters' strokes (their template's thin light pixels: within STROKE_SPREAD of its lightest, a
    name being drawn in one light colour, and STROKE_CONTRAST lighter than their surroundings) are still somewhere
    within `around`, within STROKE_RMS grey levels, whatever the picture between them does: Meet draws the name
    over the video with no box, so a student who moves, or a webcam's exposure, changes the template's other
    pixels, light parts of the picture among them (a white wall)."""
    light = letters >= int(letters.max()) - STROKE_SPREAD  # never empty
    thin = light & (cv2.morphologyEx(letters, cv2.MORPH_TOPHAT, np.ones((3, 3), np.uint8)) >= STROKE_CONTRAST)
    strokes = np.where(thin if np.count_nonzero(thin) >= MIN_STROKES else light, 255, 0).astype(np.uint8)
    # compared squared: OpenCV's float sums can put a perfect match a little below 0
    squared = float(cv2.matchTemplate(around, letters, cv2.TM_SQDIFF, mask=strokes).min())
    return squared <= STROKE_RMS ** 2 * cv2.countNonZero(strokes)


def _changed(before: _Read, strip: np.ndarray, look: np.ndarray) -> bool:
    """Whether a tile read before shows another participant now: its picture (`look`), shrunk, looks different,
    or its tag (`strip`) does where the name was read or just after it."""
    if float(np.abs(look - before.tile_look).mean()) > TILE_CHANGED:
        return True
    return before.box is not None and (letters_moved_away(before.letters, strip, before.box)
                                       or letters_added(before.tail, strip, before.box))


class NameReader:
    """The names on a screen's tiles, each tag read only when needed (see the module's notes)."""

    def __init__(self, ocr: TagOCR | None = None, reread_s: float = REREAD_S, refresh_per_s: float = REFRESH_PER_S):
        self.ocr = ocr or TagOCR()
        self.reread_s, self.refresh_per_s = reread_s, refresh_per_s
        self._tiles: list[Rect] = []  # the tiles of the last screen, and what was read on each
        self._seen: list[_Read] = []
        self._last_refresh = -np.inf

    def read(self, image: np.ndarray, tiles: Sequence[Rect], timestamp: float) -> list[NameTag]:
        """The name on each tile, in the order of `tiles`; tiles no longer on screen are forgotten, but not in a
        screen without tiles (one the tiles were not found in), after which the reads are kept for the next one."""
        if not tiles:
            return []
        looks = [tile_look(image, tile) for tile in tiles]
        seen = []
        for tile, before, look in zip(tiles, self._previous(tiles), looks):
            if before is None or _changed(before, strip_pixels(image, tile, before.whole, before.tall), look):
                before = self._read(image, tile, look, timestamp)
            seen.append(before)
        self._tiles, self._seen = list(tiles), seen
        self._refresh_oldest(image, looks, timestamp)
        return [NameTag(tile, read.name) for tile, read in zip(tiles, self._seen)]

    def _previous(self, tiles: Sequence[Rect]) -> list[_Read | None]:
        """What was read on each tile at the last screen (the same tile: overlapping it by SAME_TILE_IOU or more)."""
        if not self._tiles or not tiles:
            return [None] * len(tiles)
        overlap = iou_matrix(list(tiles), self._tiles)
        best = overlap.argmax(axis=1)
        return [self._seen[b] if overlap[t, b] >= SAME_TILE_IOU else None for t, b in enumerate(best)]

    def _refresh_oldest(self, image: np.ndarray, looks: list[np.ndarray], timestamp: float) -> None:
        """Read the tag read longest ago again, when that was over reread_s ago and the last refresh was at least
        1 / refresh_per_s ago."""
        if not self._seen or timestamp - self._last_refresh < 1.0 / self.refresh_per_s:
            return
        oldest = min(range(len(self._seen)), key=lambda i: self._seen[i].at)
        before = self._seen[oldest]
        if timestamp - before.at >= self.reread_s:
            fresh = self._read(image, self._tiles[oldest], looks[oldest], timestamp, before.whole, before.tall)
            self._seen[oldest] = _refreshed(before, fresh)
            self._last_refresh = timestamp

    def _read(self, image: np.ndarray, tile: Rect, look: np.ndarray, timestamp: float, whole: bool = False,
              tall: bool = False) -> _Read:
        """Read a tile's tag in its strip (the usual one or the tall one: _read_uncut), and again along the tile's
        whole width where the name reaches the strip's end (a long name: read cut mid-letter, it would be another
        name in a tile of another size); or, `whole` (an unchanged tile whose name was long), along its whole width
        at once; `tall` (an unchanged tile whose tag was read in the tall strip), in the tall strip first."""
        strip, name, box, tall = self._read_uncut(image, tile, whole, tall)
        if not whole and box is not None and box.x2 >= strip.shape[1] - box.h / 2:
            wide = strip_pixels(image, tile, True, tall)
            wide_name, wide_box = self._read_strip(wide)
            if wide_box is not None:
                strip, name, box, whole = wide, wide_name, wide_box, True
        if box is None:
            return _Read(name, None, np.zeros((0, 0)), look, timestamp, np.zeros((0, 0)))
        return _Read(name, box, _grey(strip, box, -look_margin(box)), look, timestamp, plain_tail(strip, box), whole,
                     tall, (name,))

    def _read_uncut(self, image: np.ndarray, tile: Rect, whole: bool, tall: bool
                    ) -> tuple[np.ndarray, str, Rect | None, bool]:
        """A tile's tag strip, the name read in it and where, and whether it is the tall one: the usual strip; the
        tall one instead where the usual one reads nothing or a name reaching its top (within CUT_PX) and the tall
        one reads a name reaching down into the usual one's rows (a cut tag's lower part is there; text in the
        picture above is not), or, `tall`, where the tall one reads a name at all. The tall strip is read only
        where it is TALLER_PX or more taller than the usual one."""
        usual, taller = strip_pixels(image, tile, whole), strip_pixels(image, tile, whole, tall=True)
        worth = taller.shape[0] >= usual.shape[0] + TALLER_PX
        if tall and worth:
            name, box = self._read_strip(taller)
            return (taller, name, box, True) if box is not None else (usual, *self._read_strip(usual), False)
        name, box = self._read_strip(usual)
        if worth and (box is None or box.y <= CUT_PX):
            tall_name, tall_box = self._read_strip(taller)
            if tall_box is not None and tall_box.y2 > taller.shape[0] - usual.shape[0]:
                return taller, tall_name, tall_box, True
        return usual, name, box, False

    def _read_strip(self, strip: np.ndarray) -> tuple[str, Rect | None]:
        """The name in a tag strip and where it is (enlarged first when its letters are small)."""
        start = time.perf_counter()
        scale = READ_HEIGHT / strip.shape[0] if 0 < strip.shape[0] < READ_HEIGHT else 1.0
        big = cv2.resize(strip, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC) if scale > 1 else strip
        name, box = self.ocr.read(big) if strip.size else ("", None)
        # its length, not the name: a student's name is personal data, and -v prints this on the console
        log.debug("name tag read: %d characters in %.0f ms", len(name), 1000 * (time.perf_counter() - start))
        return name, box.scaled(1 / scale) if box is not None else None


def _refreshed(before: _Read, fresh: _Read) -> _Read:
    """An unchanged tile (else read already) after a refresh read `fresh`: the name read most often in the tile's
    last VOTE_READINGS readings, the one shown before where two are read as often, with the fresh reading's letters.
    A misreading now and then (letters over a moving picture, as Meet draws them) does not rename the student, a
    first one is put right by the readings after it, and a swap of two names a letter apart that the tile's look
    missed by those after it, not only once they outnumber every reading since the tile last changed. A refresh
    that reads nothing keeps what was read."""
    if not fresh.name:
        return replace(before, at=fresh.at)
    readings = (*before.readings, fresh.name)[-VOTE_READINGS:]
    votes = Counter(readings)
    return replace(fresh, name=max(votes, key=lambda name: (votes[name], name == before.name)), readings=readings)
