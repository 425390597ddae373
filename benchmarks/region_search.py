"""Face finding on screens without a gallery, analysed again and again: the whole window pyramid at every find
("before") against the pyramid in turns with windows around the faces found (now), side by side in one run.

    python -m benchmarks.region_search [--finds 12]

Screens (1920x1080 or 1080 high, real photographs, a webcam's noise added to each frame): a room's camera over the
whole screen (a classroom photograph), one participant's tile alone on Zoom's background (a one-to-one lesson with
the self view hidden), and a portrait filling the screen. For each: the faces the first find sees, the fewest of
those any later find still sees, detector calls at the first find and the median of the later ones, and the median
milliseconds of the later finds. Single-threaded, on whatever else the machine is doing: compare the ratio.
"""

from __future__ import annotations

import statistics
import time
from unittest import mock

import cv2
import numpy as np

from benchmarks.command import benchmark_parser, load_at_end, machine, run_benchmark
from ferbot.console import whole_number
from ferbot.detect import FaceFinder, looks
from tests.helpers.faces import CLASSROOM, matches, people, photo
from tests.helpers.meetings import meeting_screen


def screens() -> dict[str, np.ndarray]:
    """The screens, by name."""
    room, portrait = photo(CLASSROOM), photo("mpl_grace_hopper.jpg")
    return {
        "a room's camera (classroom photograph)": cv2.resize(room, None, fx=1080 / room.shape[0],
                                                              fy=1080 / room.shape[0], interpolation=cv2.INTER_AREA),
        "one participant's tile on Zoom's background": meeting_screen(people(), "zoom", (1920, 1080), 1, seed=3).image,
        "a portrait filling the screen": cv2.resize(portrait, (1920, 1080), interpolation=cv2.INTER_AREA),
    }


def measure(screen: np.ndarray, finds: int, rng: np.random.Generator) -> dict[str, float]:
    """One finder's figures over `finds` frames of the screen, each with a webcam's noise."""
    with FaceFinder() as finder:
        runs = []
        for _ in range(finds):
            frame = np.clip(screen + rng.normal(0, 2, screen.shape), 0, 255).astype(np.uint8)
            start = time.perf_counter()
            found = finder.find(frame)
            runs.append((found, finder.detector_calls, time.perf_counter() - start))
    first = [d.box for d in runs[0][0]]
    kept = min(sum(any(matches(d.box, face) for d in found) for face in first) for found, _, _ in runs[1:])
    return {"faces": len(first), "kept": kept, "first calls": runs[0][1],
            "calls": statistics.median(calls for _, calls, _ in runs[1:]),
            "ms": 1000 * statistics.median(seconds for _, _, seconds in runs[1:])}


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--finds", type=whole_number(2), default=12, help="finds per screen and way (default 12)")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"Face finding on screens without a gallery, {args.finds} finds each; {machine()}")
    print(f"{'':46s} {'faces':>5} {'kept':>9} {'1st calls':>9} {'calls':>11} {'ms':>13} {'ms ratio':>8}")
    print(f"{'':46s} {'':>5} {'before now':>9} {'':>9} {'before now':>11} {'before    now':>13} {'':>8}")
    for name, screen in screens().items():
        with mock.patch.object(looks, "SAME_SCENE", -1.0):  # never the same scene: the whole pyramid
            before = measure(screen, args.finds, np.random.default_rng(0))
        now = measure(screen, args.finds, np.random.default_rng(0))
        print(f"{name:46s} {now['faces']:5d} {before['kept']:6d} {now['kept']:3d} {now['first calls']:9d} "
              f"{before['calls']:6.0f} {now['calls']:4.0f} {before['ms']:6.0f} {now['ms']:6.0f} "
              f"{before['ms'] / now['ms']:8.1f}", flush=True)
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
