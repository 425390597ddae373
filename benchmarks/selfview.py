"""Finding ferbot's own feed on the screen it captures: how often the feed is found when a meeting app shows it in a
gallery tile, and what the marker search costs per analysed screen, for the marker detector's settings now and
before (one 7-px adaptive-threshold window, 4 px a cell); then, in tiles with rounded corners and tiles the app
fills by cropping the feed's sides, for the markers' places now and before 7 Dec. 2026 (in the corners, a sixth of
their side from the edges); side by side in one run.

    python -m benchmarks.selfview [--placements 30] [--heights 264,208,175,146,120,100]

The 1280x720 feed of the demo gallery is scaled (bilinear, as apps scale video) to each tile height of a 1080p
screen (264: a 4x4 gallery, 208: 5x5, 175: 6x6, 146: 7x7, 100-120: a speaker view's strip), cropped to the tile's
shape, placed at random sub-pixel offsets (seeded) on a dark background, and its corners rounded in the background's
colour (Meet's and Teams' tiles: about 8-12 px at 1080p); it counts as found when a rectangle find_own_feed returns
overlaps the whole feed's (as if uncropped) by IoU 0.85 or more. The time is the median of the detector's calls on
the demo gallery's 1080p screen.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from unittest import mock

import cv2
import numpy as np

from benchmarks.command import benchmark_parser, comma_list, load_at_end, machine, run_benchmark
from ferbot import selfview
from ferbot.capture.demo import DemoSource
from ferbot.console import whole_number
from ferbot.geometry import Rect
from ferbot.render import Renderer
from tests.helpers.meetings import round_corners

FEED = (1280, 720)
SCREEN = (1920, 1080)


def before() -> cv2.aruco.ArucoDetector:
    """The marker detector as it was set up before 6 Dec. 2026: one 7-px window, OpenCV's 4 px a cell."""
    params = cv2.aruco.DetectorParameters()
    params.minMarkerPerimeterRate = 0.01
    params.adaptiveThreshWinSizeMin = params.adaptiveThreshWinSizeMax = 7
    params.minDistanceToBorder = 0
    return cv2.aruco.ArucoDetector(selfview._dictionary(), params)


# Tiles: (name, the tile's width over its height, its corners' radius in screen pixels)
TILES = (("16:9, square corners", 16 / 9, 0), ("16:9, rounded 12 px", 16 / 9, 12),
         ("4:3 crop, rounded 12 px", 4 / 3, 12), ("1:1 crop, rounded 12 px", 1.0, 12))
BACKGROUND = 32


def placements(feed: np.ndarray, height: int, count: int, rng: np.random.Generator, aspect: float = 16 / 9,
               radius: int = 0):
    """(grey screen, the whole feed's true rectangle) for `count` sub-pixel placements of `feed` scaled to `height`,
    its sides cropped to a tile `aspect` wide, the tile's corners rounded by `radius`."""
    small = cv2.resize(feed, None, fx=height / feed.shape[0], fy=height / feed.shape[0],
                       interpolation=cv2.INTER_LINEAR)
    width = min(round(height * aspect), small.shape[1])
    cut = (small.shape[1] - width) // 2
    for dx, dy in rng.uniform(0, 1, (count, 2)):
        shifted = cv2.warpAffine(small[:, cut:cut + width], np.float32([[1, 0, dx], [0, 1, dy]]),
                                 (width + 2, height + 2), borderMode=cv2.BORDER_REPLICATE)
        screen = np.full((SCREEN[1], SCREEN[0], 3), BACKGROUND, np.uint8)
        screen[200:200 + shifted.shape[0], 300:300 + shifted.shape[1]] = shifted
        round_corners(screen, Rect(300 + round(dx), 200 + round(dy), width, height), radius, (BACKGROUND,) * 3)
        yield (cv2.cvtColor(screen, cv2.COLOR_RGB2GRAY),
               Rect(300 + dx - cut, 200 + dy, small.shape[1], small.shape[0]))


def found_count(detector, layout, feed: np.ndarray, height: int, count: int, aspect: float = 16 / 9,
                radius: int = 0) -> int:
    """How many of `count` placements at `height` (placements) find_own_feed finds with `detector`."""
    with mock.patch.object(selfview, "_detector", lambda: detector):
        return sum(any(f.iou(truth) >= 0.85 for f in selfview.find_own_feed(grey, layout))
                   for grey, truth in placements(feed, height, count, np.random.default_rng(height), aspect, radius))


def corner_markers():
    """The markers' places before 7 Dec. 2026, in the output's top corners (a sixth of their side from the edges)."""
    return mock.patch.object(selfview.MarkerLayout, "inset", property(lambda layout: layout.margin))


def median_ms(detector, grey: np.ndarray, calls: int = 20) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        detector.detectMarkers(grey)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main() -> None:
    p = benchmark_parser(__doc__)
    p.add_argument("--placements", type=whole_number(1), default=30, help="sub-pixel placements per height")
    p.add_argument("--heights", type=comma_list(whole_number(20), "tile heights in pixels"),
                   default=[264, 208, 175, 146, 120, 100], help="tile heights on the 1080p screen")
    args = p.parse_args()
    print(machine())
    renderer = Renderer(FEED)
    feed, layout = renderer.render(DemoSource().read().image, []), renderer.layout.markers
    gallery = cv2.cvtColor(DemoSource(SCREEN).read().image, cv2.COLOR_RGB2GRAY)
    detectors = {"before": before(), "now": selfview._detector()}
    print(f"feed found in {args.placements} placements, per tile height (marker side); ms per 1080p screen")
    print(f"{'':8s}" + "".join(f"{h:>5d} ({round(layout.side * h / FEED[1]):>2d} px)" for h in args.heights) + "   ms")
    for name, detector in detectors.items():
        found = [found_count(detector, layout, feed, h, args.placements) for h in args.heights]
        print(f"{name:8s}" + "".join(f"{n:>13d}" for n in found) + f"  {median_ms(detector, gallery):5.1f}")
    print(f"\nfeed found in {args.placements} placements, per tile height, by the markers' places and the tile")
    print(f"{'':34s}" + "".join(f"{h:>6d}" for h in args.heights))
    for tile, aspect, radius in TILES:
        for places, patch in (("corners", corner_markers()), ("now", contextlib.nullcontext())):
            with patch:
                feed = Renderer(FEED).render(DemoSource().read().image, [])
                found = [found_count(detectors["now"], layout, feed, h, args.placements, aspect, radius)
                         for h in args.heights]
            print(f"{tile:24s} {places:>8s}:" + "".join(f"{n:>6d}" for n in found))
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
