"""Faces anywhere on a screen: tiles or windows -> BlazeFace per window -> screen coordinates -> merged."""

from __future__ import annotations

import logging

import numpy as np

from ferbot.detect.blazeface import BlazeFace, Detection
from ferbot.detect.merge import merge_duplicates
from ferbot.detect.tiling import Window, find_tiles, first_windows
from ferbot.geometry import Rect

log = logging.getLogger(__name__)

MIN_FACE_PX = 20  # smaller faces carry too little for a 48x48 classifier
FLAT_WINDOW_STD = 6.0  # a window this uniform (a camera-off tile) holds no face
EDGE_TOLERANCE = 0.02  # of the window side: a box this close to an inner window edge is cut off by it


class FaceFinder:
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
