"""Face recall on realistic meeting screens: ferbot's finder beside the one before #12 (benchmarks/baseline), in one
run.

    python -m benchmarks.gallery_recall [--seeds 2] [--styles zoom,meet,teams]
                                        [--sizes 1280x720,1440x900,1920x1080,2560x1440]
                                        [--counts 4,9,25,49] [--face-share 0.15,0.45] [--save-failures DIR]

Screens come from tests/helpers/meetings.py: Zoom-, Meet- and Teams-like galleries of real photographs framed as webcams
(face 15-45% of the tile's height unless --face-share says otherwise, off-centre, a room behind; some masked, some with
glasses, some phone videos), degraded like a video call, with name tags, an active-speaker border, emoji reactions,
camera-off tiles (a name or a profile picture), a title bar, a toolbar and page arrows; and for each style and size a
shared screen beside a strip of tiles, and a speaker view (five small tiles above a large one). The people are the
public-domain/CC0 photographs in tests/data/faces (the demo faces are crops of the same photographs), plus the other
single-person photographs of ../shared/faces when that folder exists (read at run time, never copied into the
repository), with hand-drawn face boxes.

A face counts when it is at least 24 px high and at least 80% of it shows in its tile; it is found when a box's
centre lies inside it and they overlap (IoU >= 0.25). A box is false when it lies on no face at all: boxes on profile
pictures, on faces under 24 px or on faces cut more than that by their tile are neither required nor counted as
false. A tile is found whole when one of the finder's tiles covers at least 90% of it and adds at most 10% of its
area beyond it (ferbot's finder only: the one before #12 had no tiles). Time is the wall time of
find() per screen, the first call on a screen (no reuse between frames), and the detector calls it made (the
machine-independent part of the cost: each BlazeFace call costs about the same whatever the window's size).
Machines differ by 2x: compare the two finders' figures from the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from benchmarks.baseline.finder import BaselineFaceFinder
from benchmarks.command import SHARED_FACES, benchmark_parser, comma_list, output_folder, run_benchmark
from ferbot.console import frame_size, whole_number
from ferbot.detect import BlazeFace, FaceFinder
from ferbot.geometry import Rect
from tests.helpers.faces import matches, people
from tests.helpers.meetings import FACE_SHARE, STYLES, MeetingScreen, Person, meeting_screen

# Hand-drawn boxes (fractions of width and height) of the single-person photographs in ../shared/faces that are
# not public domain or CC0, so are not in the repository.
SHARED_PHOTO_FACES = {
    "pexels_maxemo_angry.jpg": [(0.17, 0.19, 0.66, 0.55)],
    "pexels_maxemo_neutral.jpeg": [(0.28, 0.31, 0.45, 0.42)],
    "pexels_maxemo_surprised.jpeg": [(0.52, 0.40, 0.26, 0.38)],
    "pexels_maxemo_happy-baby.jpeg": [(0.38, 0.16, 0.24, 0.35)],
    "pexels_maxemo_sad-baby.jpeg": [(0.26, 0.05, 0.70, 0.93)],
}


def all_people() -> list[Person]:
    """The repository's photographs, and those of ../shared/faces when it is there."""
    found = people()
    for name, boxes in SHARED_PHOTO_FACES.items():
        image = cv2.imread(str(SHARED_FACES / name))
        if image is None:
            continue
        picture = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        h, w = picture.shape[:2]
        found.append(Person(picture, tuple(Rect(x * w, y * h, bw * w, bh * h) for x, y, bw, bh in boxes)))
    return found


def score(screen: MeetingScreen, boxes: list[Rect]) -> dict:
    """Faces found (all, masked), faces in all, false boxes."""
    found = [any(matches(b, face) for b in boxes) for face in screen.faces]
    false = sum(not any(matches(b, t) or t.contains_point(*b.center) for t in screen.faces + screen.ignore)
                for b in boxes)
    masked = [f for f, m in zip(found, screen.masked) if m]
    return {"faces": len(found), "found": sum(found), "masked": len(masked), "masked_found": sum(masked),
            "false": false, "missed": [face for face, f in zip(screen.faces, found) if not f]}


def timed_find(finder, image: np.ndarray) -> tuple[list[Rect], float]:
    start = time.perf_counter()
    boxes = [d.box for d in finder.find(image)]
    return boxes, time.perf_counter() - start


def screens(args, crowd: list[Person]):
    """(group key, screen) for every configuration asked for."""
    for style in args.styles:
        for size in args.sizes:
            for count in args.counts:
                for seed in range(args.seeds):
                    yield (style, size, count), meeting_screen(crowd, style, size, count, seed=1000 * count + seed,
                                                               face_share=args.face_share)
            for layout in ("share", "speaker"):
                for seed in range(args.seeds):
                    yield (style, size, layout), meeting_screen(crowd, style, size, 6, seed=seed, layout=layout,
                                                                face_share=args.face_share)


def screen_count(args) -> int:
    """How many screens `screens` composes."""
    return len(args.styles) * len(args.sizes) * (len(args.counts) + 2) * args.seeds


def run(args) -> dict:
    crowd = all_people()
    print(f"{len(crowd)} people ({'with' if len(crowd) > len(people()) else 'without'} ../shared/faces)")
    baseline = BaselineFaceFinder(BlazeFace())
    results: dict = defaultdict(lambda: defaultdict(list))
    for key, screen in tqdm(screens(args, crowd), desc="screens", unit="screen", total=screen_count(args),
                            file=sys.stderr, leave=False):
        # ferbot's finder remembers which tile's sides it searched last: a new one per screen, so that each
        # screen's figures are its first find's, whichever screens came before it (--styles, --sizes)
        with FaceFinder() as ferbot:
            for name, finder in (("before #12", baseline), ("ferbot", ferbot)):
                boxes, seconds = timed_find(finder, screen.image)
                result = score(screen, boxes)
                result["ms"], result["calls"] = 1000 * seconds, finder.detector_calls
                if name == "ferbot":
                    result["tiles"], result["whole_tiles"] = len(screen.tiles), whole_tiles(screen.tiles,
                                                                                            finder.tiles)
                results[key][name].append(result)
                if args.save_failures and name == "ferbot" and (result["missed"] or result["false"]):
                    save_failure(args.save_failures, key, screen, boxes, result)
    baseline.close()
    return results


def whole_tiles(true: list[Rect], found: list[Rect]) -> int:
    """How many of the true tiles a found tile covers whole: 90% of it or more, adding at most 10% of its area."""
    return sum(any(f.intersection_area(t) >= 0.9 * t.area and f.area - f.intersection_area(t) <= 0.1 * t.area
                   for f in found) for t in true)


def save_failure(folder: Path, key, screen: MeetingScreen, boxes: list[Rect], result: dict) -> None:
    """The screen with true faces (green), missed faces (red) and the finder's boxes (yellow)."""
    folder.mkdir(parents=True, exist_ok=True)
    image = cv2.cvtColor(screen.image, cv2.COLOR_RGB2BGR)
    for rects, colour in ((screen.faces, (0, 200, 0)), (result["missed"], (0, 0, 255)), (boxes, (0, 230, 255))):
        for r in rects:
            cv2.rectangle(image, (int(r.x), int(r.y)), (int(r.x2), int(r.y2)), colour, 2)
    style, (w, h), count = key
    index = len(list(folder.glob(f"{style}_{w}x{h}_{count}_*.png")))
    cv2.imwrite(str(folder / f"{style}_{w}x{h}_{count}_{index}.png"), image)


def summary(rows: list[dict]) -> tuple[float, float, float, float, float]:
    """Recall, masked recall, false boxes per screen, median ms per screen, mean detector calls per screen."""
    faces, found = sum(r["faces"] for r in rows), sum(r["found"] for r in rows)
    masked, masked_found = sum(r["masked"] for r in rows), sum(r["masked_found"] for r in rows)
    return (found / max(faces, 1), masked_found / masked if masked else float("nan"),
            sum(r["false"] for r in rows) / len(rows), statistics.median(r["ms"] for r in rows),
            statistics.mean(r["calls"] for r in rows))


def report(results: dict) -> None:
    columns = f"{'recall':>6} {'masked':>6} {'false':>5} {'ms':>6} {'calls':>5}"
    header = f"{'style':6} {'size':>9} {'tiles':>5} {'faces':>5} | {columns} | {columns} | {'time':>5}"
    print(f"{'':28} | {'before #12':^33} | {'ferbot':^33} |")
    print(header)
    totals: dict = defaultdict(list)
    for (style, (w, h), count), by_finder in results.items():
        old, new = summary(by_finder["before #12"]), summary(by_finder["ferbot"])
        faces = sum(r["faces"] for r in by_finder["ferbot"])
        print(f"{style:6} {w:>4}x{h:<4} {count!s:>5} {faces:5d} | {_row(old)} | {_row(new)} | {new[3] / old[3]:4.2f}x")
        for name in ("before #12", "ferbot"):
            totals[name] += by_finder[name]
            totals[(name, style)] += by_finder[name]
            totals[(name, (w, h))] += by_finder[name]
    print("\nby style and size (all tile counts):")
    for group in [*STYLES, *sorted({k[1] for k in results})]:
        if ("before #12", group) in totals:
            label = group if isinstance(group, str) else f"{group[0]}x{group[1]}"
            print(f"{label:>16} {'':11} | {_row(summary(totals[('before #12', group)]))} | "
                  f"{_row(summary(totals[('ferbot', group)]))} |")
    old, new = summary(totals["before #12"]), summary(totals["ferbot"])
    faces = sum(r["faces"] for r in totals["ferbot"])
    print(f"{'all':>16} {faces:11d} | {_row(old)} | {_row(new)} |")
    tiles, whole = (sum(r[key] for r in totals["ferbot"]) for key in ("tiles", "whole_tiles"))
    print(f"\nferbot's tiles found whole: {whole} of {tiles} ({whole / max(tiles, 1):.1%})")


def _row(s: tuple[float, float, float, float, float]) -> str:
    recall, masked, false, ms, calls = s
    return f"{recall:6.1%} {masked:6.0%} {false:5.2f} {ms:6.1f} {calls:5.1f}"


def _face_share(text: str) -> tuple[float, float]:
    """--face-share: two shares of a picture's height, the smaller first."""
    try:
        low, high = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not LOW,HIGH (two numbers, e.g. 0.12,0.2)") from None
    if not 0 < low <= high <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 < LOW <= HIGH <= 1")
    return low, high


def _style(text: str) -> str:
    if text not in STYLES:
        raise ValueError(text)
    return text


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--seeds", type=whole_number(1), default=2, help="screens per configuration (default 2)")
    parser.add_argument("--styles", type=comma_list(_style, ", ".join(STYLES)), default=list(STYLES),
                        help="meeting apps' looks (default " + ",".join(STYLES) + ")")
    parser.add_argument("--sizes", type=comma_list(frame_size((320, 180)), "WIDTHxHEIGHT sizes"),
                        default=[(1280, 720), (1440, 900), (1920, 1080), (2560, 1440)],
                        help="screen sizes (default 1280x720,1440x900,1920x1080,2560x1440: 1440x900 a 16:10 laptop's)")
    parser.add_argument("--counts", type=comma_list(whole_number(1), "whole numbers"), default=[4, 9, 25, 49],
                        help="tiles per gallery (default 4,9,25,49)")
    parser.add_argument("--face-share", type=_face_share, default=FACE_SHARE, metavar="LOW,HIGH",
                        help=f"webcam faces' heights, as shares of their pictures' (default {FACE_SHARE[0]},"
                        f"{FACE_SHARE[1]}: far back to close up; the finder is built for faces down to 0.12)")
    parser.add_argument("--save-failures", type=output_folder, metavar="DIR",
                        help="write each screen where ferbot's finder misses a face or adds a false box")
    report(run(parser.parse_args()))


if __name__ == "__main__":
    run_benchmark(main)
