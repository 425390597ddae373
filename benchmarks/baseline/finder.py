"""Today's face finder as it was before the detection work of issue #12 (ferbot/detect/finder.py and tiling.py at
commit c949652), frozen here so benchmarks/gallery_recall.py can run it side by side with the new one."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.detect.blazeface import BlazeFace, Detection
from ferbot.detect.merge import merge_duplicates
from ferbot.geometry import Rect

MIN_TILE = (64, 48)  # smaller blocks cannot hold a face worth classifying
MAX_TILES = 64  # more blocks than this is a document or a desktop, not a meeting gallery
FLAT_LINE_STD = 3.0  # grey-level spread up to which a line is flat
GUTTER_TOLERANCE = 8.0  # grey levels between a gutter line and the background
LARGE_REGION = 640  # regions longer than this (px) also get a pyramid of overlapping windows
SMALLEST_WINDOW = 300  # the pyramid stops here: faces down to about a third of it are found
PYRAMID_STEP = 1.5
CENTRE_WINDOW_ASPECT = 1.3  # wider tiles are first searched in a centred square, where webcam faces sit


@dataclass(frozen=True)
class Window:
    """A rectangle to run the detector on, and the region (tile or frame) it searches."""

    rect: Rect
    region: Rect


def find_tiles(image: np.ndarray) -> list[Rect]:
    """Blocks of the screen separated by gutters, largest first; [] when it does not look like a gallery.

    A gutter line is flat and has the colour of the screen's background, estimated from the flat lines that
    cross the whole screen. The screen is cut into bands along gutter rows, each band into tiles along gutter
    columns, and each tile is trimmed of gutter-coloured borders. A face is never cut: no row or column
    through a face is flat. Flat tile backgrounds of another colour (a pillarboxed picture) stay in the tile.
    """
    gray = cv2.cvtColor(image[::2, ::2], cv2.COLOR_RGB2GRAY).astype(np.float32)
    level = _background_level(gray)
    if level is None:
        return []
    tiles = []
    for y0, y1 in _runs(~_gutter_lines(gray, level, axis=1)):
        for x0, x1 in _runs(~_gutter_lines(gray[y0:y1], level, axis=0)):
            tiles.append(_trim(gray, Rect(x0, y0, x1 - x0, y1 - y0), level).scaled(2))
    tiles = [t for t in tiles if t.w >= MIN_TILE[0] and t.h >= MIN_TILE[1]]
    if not tiles or len(tiles) > MAX_TILES:
        return []
    return sorted(tiles, key=lambda t: -t.area)


def _background_level(gray: np.ndarray) -> float | None:
    """The grey level of the flat rows and columns that cross the whole screen (None if there are none)."""
    levels = [lines.mean(axis=1)[lines.std(axis=1) <= FLAT_LINE_STD] for lines in (gray, gray.T)]
    levels = np.concatenate(levels)
    return float(np.median(levels)) if len(levels) else None


def _gutter_lines(gray: np.ndarray, level: float, axis: int) -> np.ndarray:
    """Per line (axis=1: rows, axis=0: columns), whether it is flat and of the background's colour."""
    return (gray.std(axis=axis) <= FLAT_LINE_STD) & (np.abs(gray.mean(axis=axis) - level) <= GUTTER_TOLERANCE)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _trim(gray: np.ndarray, tile: Rect, level: float) -> Rect:
    """The tile without gutter-coloured rows and columns along its borders."""
    x, y, w, h = tile.as_int()
    block = gray[y:y + h, x:x + w]
    rows = np.flatnonzero(~_gutter_lines(block, level, axis=1))
    cols = np.flatnonzero(~_gutter_lines(block, level, axis=0))
    if len(rows) == 0 or len(cols) == 0:
        return Rect(x, y, 0, 0)
    return Rect(x + int(cols[0]), y + int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def first_windows(region: Rect) -> list[Window]:
    """Where to look first in a region: a small region in one window (a wide one: its centred square);
    a large one whole and through a pyramid of overlapping squares."""
    if max(region.w, region.h) > LARGE_REGION:
        return [Window(region, region)] + [Window(rect, region) for rect in pyramid(region)]
    return [Window(centre_window(region), region)]


def centre_window(region: Rect) -> Rect:
    """The region itself, or for a wide (tall) region a centred square a little larger than its height (width)."""
    short, long = min(region.w, region.h), max(region.w, region.h)
    if long <= short * CENTRE_WINDOW_ASPECT:
        return region
    side = short * 1.15
    cx, cy = region.center
    if region.w >= region.h:
        return Rect(cx - side / 2, region.y, side, region.h)
    return Rect(region.x, cy - side / 2, region.w, side)


def pyramid(region: Rect) -> list[Rect]:
    """Overlapping squares (stride half a side) covering the region, sides shrinking by PYRAMID_STEP from its
    shorter side down to SMALLEST_WINDOW. Any face up to half a side lies wholly inside one square."""
    windows = []
    side = min(region.w, region.h) / PYRAMID_STEP
    while side >= SMALLEST_WINDOW:
        xs = _positions(region.x, region.w, side)
        ys = _positions(region.y, region.h, side)
        windows += [Rect(x, y, side, side) for y in ys for x in xs]
        side /= PYRAMID_STEP
    return windows


def _positions(start: float, length: float, side: float) -> list[float]:
    """Evenly spread window starts from `start` to `start + length - side`, at most half a side apart."""
    count = int(np.ceil((length - side) / (side / 2))) + 1
    return np.linspace(start, start + length - side, count).tolist()



MIN_FACE_PX = 20  # smaller faces carry too little for a 48x48 classifier
FLAT_WINDOW_STD = 6.0  # a window this uniform (a camera-off tile) holds no face
EDGE_TOLERANCE = 0.02  # of the window side: a box this close to an inner window edge is cut off by it


class BaselineFaceFinder:
    """Finds faces on a whole screen with a detector that only sees faces filling a fair part of its input."""

    def __init__(self, detector: BlazeFace | None = None):
        self.detector = detector or BlazeFace()
        self.detector_calls = 0  # in the last find(), for benchmarks

    def find(self, image: np.ndarray) -> list[Detection]:
        """Every face in an RGB screen, in its pixel coordinates, one detection per face."""
        self.detector_calls = 0
        height, width = image.shape[:2]
        screen = Rect(0, 0, width, height)
        tiles = find_tiles(image)
        found = []
        if tiles:  # the whole screen too, for faces larger than any tile
            found += self._run(image, [Window(screen, screen)])[0]
        for region in tiles or [screen]:
            found += self._search(image, region)
        return merge_duplicates(found)

    def close(self) -> None:
        self.detector.close()

    def _search(self, image: np.ndarray, region: Rect) -> list[Detection]:
        """Faces in one region; a region first searched in its centre is searched whole when that finds no
        complete face or cuts one."""
        windows = first_windows(region)
        complete, cut = self._run(image, windows)
        if windows[0].rect != region and (cut or not complete):
            complete += self._run(image, [Window(region, region)])[0]
        return complete

    def _run(self, image: np.ndarray, windows: list[Window]) -> tuple[list[Detection], bool]:
        """Detections in screen coordinates that no inner window edge cuts, and whether any was cut."""
        complete, any_cut = [], False
        for window in windows:
            x, y, w, h = window.rect.as_int()
            pixels = image[y:y + h, x:x + w]
            if pixels.size == 0 or pixels[::4, ::4].std() < FLAT_WINDOW_STD:
                continue
            self.detector_calls += 1
            for detection in self.detector.detect(pixels):
                detection = detection.moved(x, y)
                if min(detection.box.w, detection.box.h) < MIN_FACE_PX:
                    continue
                if _cut_by_window(detection.box, Rect(x, y, w, h), window.region):
                    any_cut = True
                else:
                    complete.append(detection)
        return complete, any_cut


def _cut_by_window(box: Rect, window: Rect, region: Rect) -> bool:
    """Whether the box touches or crosses an edge of the window that lies inside the region."""
    tol_x, tol_y = EDGE_TOLERANCE * window.w, EDGE_TOLERANCE * window.h
    return ((window.x > region.x + 1 and box.x <= window.x + tol_x)
            or (window.x2 < region.x2 - 1 and box.x2 >= window.x2 - tol_x)
            or (window.y > region.y + 1 and box.y <= window.y + tol_y)
            or (window.y2 < region.y2 - 1 and box.y2 >= window.y2 - tol_y))
