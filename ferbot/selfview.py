"""Self-view recognition: the two ArUco markers ferbot paints into the top bar of its own output, and
finding them (so its own feed) on a captured screen.

When the teacher shares "FER Cam" in the meeting, ferbot's output shows up on the screen it captures. The
markers let the bot find that picture (also scaled down into a gallery tile, and mirrored as in a Zoom
self-view) and leave the faces inside it alone. The marker pattern is left-right symmetric, so a mirrored
copy still reads as the same marker. The markers sit a marker's side inside the output's centred square: an app
that crops the feed's sides to fill its tile (Teams, Meet), down to a square, keeps them, and a tile's rounded
corner does not reach them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from ferbot.geometry import Rect

# 4x4 bits, symmetric about the vertical axis and different from each of its rotations.
PATTERN = np.array([[1, 0, 0, 1],
                    [0, 1, 1, 0],
                    [1, 1, 1, 1],
                    [1, 0, 0, 1]], np.uint8)
SIDE_OF_HEIGHT = 0.1  # marker side as a share of the output height
SIZE_TOLERANCE = 0.25  # how far a found pair may stray from the expected geometry (share of the marker side)


@cache
def _dictionary() -> cv2.aruco.Dictionary:
    return cv2.aruco.Dictionary(cv2.aruco.Dictionary.getByteListFromBits(PATTERN), PATTERN.shape[0], 0)


@cache
def _detector() -> cv2.aruco.ArucoDetector:
    params = cv2.aruco.DetectorParameters()
    params.minMarkerPerimeterRate = 0.01  # markers down to ~5 px: ferbot's feed in a small gallery tile
    # Two adaptive-threshold windows (5 and 9 px) instead of OpenCV's three from 3 to 23, and each marker's bits
    # read from 8 px a cell instead of 4: the feed shrunk into a 6x6 or 7x7 gallery's tile (15-18 px markers) at
    # any sub-pixel offset is found about nine times in ten, where one 7-px window and 4 px a cell found it about
    # half the time, for 1.4 times that one window's time (benchmarks/selfview.py).
    params.adaptiveThreshWinSizeMin, params.adaptiveThreshWinSizeMax, params.adaptiveThreshWinSizeStep = 5, 9, 4
    params.perspectiveRemovePixelPerCell = 8
    params.minDistanceToBorder = 0  # a feed shown flush with the screen edge
    return cv2.aruco.ArucoDetector(_dictionary(), params)


@dataclass(frozen=True)
class MarkerLayout:
    """Where the markers sit in an output of `size` = (width, height): side `side`, `margin` from the top, `inset`
    from the left and right edges, each on a white square (its quiet zone)."""

    size: tuple[int, int]

    @property
    def side(self) -> int:
        return round(self.size[1] * SIDE_OF_HEIGHT)  # 36 px or more at every --size

    @property
    def margin(self) -> int:
        """The white quiet zone around a marker, and so its distance from the top edge."""
        return self.side // 6

    @property
    def inset(self) -> int:
        """A marker's distance from the left or right edge: a side within the centred square, so that a crop to fill
        a tile keeps it, and a tile's rounded corner (up to 16 px on a 1080p screen) misses it (markers one sixth of
        their side from the edge were cut in tiles under 200 px high)."""
        width, height = self.size
        return self.side + max(0, (width - height) // 2)

    @property
    def marker_block(self) -> int:
        """Side of the white square (marker plus quiet zone) around each marker."""
        return self.side + 2 * self.margin


def paint_markers(canvas: np.ndarray, layout: MarkerLayout) -> None:
    """Draw the two markers into the top of an RGB output frame."""
    side, margin, block = layout.side, layout.margin, layout.marker_block
    width = canvas.shape[1]
    marker = cv2.cvtColor(cv2.aruco.generateImageMarker(_dictionary(), 0, side, borderBits=1), cv2.COLOR_GRAY2RGB)
    for x in (layout.inset, width - layout.inset - side):
        canvas[0:block, x - margin:x - margin + block] = 255
        canvas[margin:margin + side, x:x + side] = marker


def find_own_feed(gray: np.ndarray, layout: MarkerLayout) -> list[Rect]:
    """Where ferbot's own output (laid out as `layout`) appears in a grayscale screen, possibly scaled and
    mirrored: one rectangle per pair of markers that sit where an output frame would put them (the whole output's,
    also where an app cropped its sides to fill a tile: shown_part)."""
    corners, ids, _ = _detector().detectMarkers(gray)
    if ids is None or len(ids) < 2:
        return []
    boxes = sorted((_bounding_box(c) for c in corners), key=lambda b: b.x)
    feeds = []
    for i, left in enumerate(boxes):
        for right in boxes[i + 1:]:
            feed = _feed_from_pair(left, right, layout)
            if feed is not None:
                feeds.append(feed)
    return feeds


def _bounding_box(corners: np.ndarray) -> Rect:
    points = corners.reshape(-1, 2)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return Rect(float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def _feed_from_pair(left: Rect, right: Rect, layout: MarkerLayout) -> Rect | None:
    """The output frame whose top-left and top-right markers these are, or None if they cannot be."""
    width, height = layout.size
    scale = (right.x2 - left.x) / (width - 2 * layout.inset)  # capture pixels per output pixel
    expected = layout.side * scale
    fits = all(abs(box.w - expected) <= SIZE_TOLERANCE * expected and abs(box.h - expected) <= SIZE_TOLERANCE * expected
               for box in (left, right))
    if not fits or abs(left.y - right.y) > SIZE_TOLERANCE * expected:
        return None
    return Rect(left.x - layout.inset * scale, left.y - layout.margin * scale, width * scale, height * scale)


def shown_part(feed: Rect, tiles: Sequence[Rect]) -> Rect:
    """The part of a found feed (find_own_feed) between the tiles beside it: where the app cropped the feed's sides
    to fill its tile, the whole feed's place reaches into them (a wide feed cropped to a square, past their middles),
    and a tile level with the feed that reaches past its left or right side is another participant's."""
    left, right, middle = feed.x, feed.x2, feed.center[0]
    for tile in tiles:
        if tile.y2 <= feed.y or tile.y >= feed.y2:
            continue
        if tile.x < feed.x < tile.x2 <= middle:
            left = max(left, tile.x2)
        if middle <= tile.x < feed.x2 < tile.x2:
            right = min(right, tile.x)
    return Rect(left, feed.y, right - left, feed.h)
