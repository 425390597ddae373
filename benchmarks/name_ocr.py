"""What reading name tags costs and how often it is right: OCR of the tags on Zoom, Meet and Teams galleries.

    python -m benchmarks.name_ocr

Galleries of 9, 12 and 24 real webcam tiles at 1920x1080 in each app's style (tests.helpers.meetings), their tags
showing Latin names with accents, Chinese and Japanese names, and names cut short with '...'; then small tiles: a
7x7 gallery at 1920x1080, a 5x5 one at 1280x720 and a speaker view's row of small tiles at both sizes; then those
small tiles on a screen scaled to 200% (a 4K screen on Windows or Linux: each screen enlarged twice). Every tag is
read once, as `ferbot --names` reads a tile it sees for the first time, on the tile as ferbot's tile finder finds
it (a tile it misses counts as misread). Reported per style and script: the share read exactly; and per gallery
size: milliseconds per tile (the OCR of its tag strips: one, or two where the first looks cut; one thread).
"""

from __future__ import annotations

import time
from collections import defaultdict

import cv2
import numpy as np

from benchmarks.command import benchmark_parser, machine, run_benchmark
from ferbot.detect.tiling import find_tiles
from ferbot.names import NameReader
from tests.helpers.faces import people
from tests.helpers.meetings import NAMED, SMALL_NAMED, STYLES, as_found, named_screens
from tests.helpers.nametags import CHINESE, CUT, JAPANESE


def script(name: str) -> str:
    return ("Chinese" if name in CHINESE else "Japanese" if name in JAPANESE else "cut short" if name in CUT
            else "Latin")


def main() -> None:
    benchmark_parser(__doc__).parse_args()
    at_start = machine()
    reader = NameReader()
    reader.read(*_warm_screen(), 0.0)  # the engine loads on the first read
    for title, screens, scale in (("galleries of 9, 12 and 24 tiles", NAMED, 1), ("small tiles", SMALL_NAMED, 1),
                                  ("small tiles at 200%", SMALL_NAMED, 2)):
        exact, ms = _read_tags(reader, screens, scale)
        print(f"{title}: name tags read exactly; {at_start}")
        scripts = sorted({s for _, s in exact})
        print(f"{'style':>6} | " + " | ".join(f"{s:>10}" for s in scripts) + " |  all")
        for style in STYLES:
            cells = [exact.get((style, s), []) for s in scripts]
            every = sum(cells, [])
            print(f"{style:>6} | " + " | ".join(f"{sum(c):>4}/{len(c):<3} " for c in cells)
                  + f" | {sum(every) / len(every):.1%}")
        print("ms per tile (a whole screen's tags read at once, one thread): "
              + ", ".join(f"{count} tiles {np.mean(v):.0f} ms" for count, v in sorted(ms.items())))


def _read_tags(reader: NameReader, screens, scale: int) -> tuple[dict, dict]:
    """Whether each tag of each style's `screens` (tests.helpers.meetings.named_screens), enlarged `scale` times,
    was read exactly, by style and script; and the milliseconds per tile, by the screens' tile count. Misreads are
    printed."""
    exact: dict[tuple[str, str], list[bool]] = defaultdict(list)
    ms: dict[int, list[float]] = defaultdict(list)
    for style in STYLES:
        for screen, names in named_screens(people(), style, screens):
            image = cv2.resize(screen.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            found = as_found([tile.scaled(scale) for tile in screen.tiles], find_tiles(image))
            tiles = [tile for tile in found if tile is not None]
            fresh = NameReader(reader.ocr)
            start = time.perf_counter()
            tags = iter(fresh.read(image, tiles, 0.0))
            ms[len(names)].append(1000 * (time.perf_counter() - start) / len(tiles))
            for tile, truth in zip(found, names):
                name = "(tile not found)" if tile is None else next(tags).name
                exact[style, script(truth)].append(name == truth)
                if name != truth:
                    print(f"  {style}: {truth!r} read as {name!r}")
    return exact, ms


def _warm_screen():
    screen, _ = named_screens(people(), "zoom")[0]
    return screen.image, screen.tiles[:1]


if __name__ == "__main__":
    run_benchmark(main)
