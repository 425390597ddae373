"""Latency of the live bot's analysis on a synthetic 1920x1080 meeting screen with 3x3, 5x5 and 7x7 galleries of
real faces.

    python -m benchmarks.bot_latency [--faces demo|fer2013] [--frames 20] [--checkpoint PATH] [--scales 1,2]

For each gallery: analysis latency per frame (median and p90) and its parts (self-view marker search, detect,
crop, classify, head pose, track), faces found, detector calls, and the analysis rate one worker sustains. The
output frame rate while the bot analyses is `benchmarks.cpu_budget`'s. Screen capture itself (mss) is not
included; nothing is written to disk.

Faces: the shipped demo portraits (default; webcam-like framing) or FER2013 Training faces (--faces fer2013, read
from $FER2013_PATH).

--scales 1,2 measures each gallery also on the screen enlarged twice (3840x2160: a 4K screen with its apps at 200%),
the two screens' analyses taken in turn, so that a busy machine weighs on both alike; compare their rows as ratios.
"""

from __future__ import annotations

import statistics
from contextlib import ExitStack

import cv2
import numpy as np

from benchmarks.command import (
    add_checkpoint_option,
    benchmark_parser,
    bot_classifier,
    comma_list,
    fer2013_path,
    load_at_end,
    machine,
    run_benchmark,
)
from benchmarks.gallery import MeetingScreen, gallery_screen, pictures
from ferbot.analysis import FrameAnalyzer
from ferbot.bot import BotOptions, build_bot
from ferbot.console import whole_number

GRIDS = (3, 5, 7)
PARTS = ("self_view", "detect", "crop", "classify", "pose", "track")
MAX_SCALE = 4  # an 8K screen


def measure_analyses(screens: list[tuple[FrameAnalyzer, MeetingScreen]], frames: int) -> list[dict]:
    """Timings of `frames` analyses of each screen after a first one (the tracker's start), the screens taken in
    turn; faces found and detector calls."""
    results = [analyzer.analyze(source.read()) for analyzer, source in screens]
    runs = [[] for _ in screens]
    for _ in range(frames):
        results = [analyzer.analyze(source.read()) for analyzer, source in screens]
        for timings, result in zip(runs, results):
            timings.append(result.timings)
    return [{"runs": timings, "faces": len(result.visible_faces), "calls": analyzer.finder.detector_calls}
            for timings, result, (analyzer, _) in zip(runs, results, screens)]


def enlarged(image: np.ndarray, scale: int) -> np.ndarray:
    """The screen as one `scale` times as large shows it, its apps drawn at `scale` x 100%."""
    height, width = image.shape[:2]
    return cv2.resize(image, (width * scale, height * scale), interpolation=cv2.INTER_LINEAR)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--faces", choices=("demo", "fer2013"), default="demo",
                        help="the gallery's faces: the demo portraits (default) or FER2013 Training faces")
    parser.add_argument("--frames", type=whole_number(1), default=20, help="timed analyses per gallery (default 20)")
    parser.add_argument("--scales", type=comma_list(whole_number(1), "whole numbers"), default=[1],
                        help="screen sizes, as multiples of 1920x1080 (default 1; 1,2 adds a 4K screen at 200%%)")
    add_checkpoint_option(parser)
    args = parser.parse_args()
    if max(args.scales) > MAX_SCALE:
        parser.error(f"--scales: at most {MAX_SCALE} (a {1920 * MAX_SCALE}x{1080 * MAX_SCALE} screen)")
    path = fer2013_path(parser) if args.faces == "fer2013" else None
    at_start = machine()  # before the classifier's warm-up compiles
    classifier = bot_classifier(args.checkpoint)
    print(f"ferbot analysis on meeting screens, {args.faces} faces; {at_start}")
    print(f"{'gallery':>8} {'screen':>9} {'faces':>5} {'calls':>5} {'median ms':>9} {'p90 ms':>7} {'ms/face':>7} "
          + " ".join(f"{p:>9}" for p in PARTS) + f" {'analyses/s':>10}")
    for grid in GRIDS:
        image = gallery_screen(pictures(args.faces, grid * grid, path))
        screens = [MeetingScreen(enlarged(image, scale), paused=True) for scale in args.scales]
        with ExitStack() as stack:
            bots = [stack.enter_context(build_bot(BotOptions(sink="none"), source=screen, classifier=classifier))
                    for screen in screens]
            measured = measure_analyses([(bot.analyzer, screen) for bot, screen in zip(bots, screens)], args.frames)
        for scale, stats in zip(args.scales, measured):
            totals = [r["total"] for r in stats["runs"]]
            median = statistics.median(totals)
            parts = " ".join(f"{1000 * statistics.median(r[p] for r in stats['runs']):9.1f}" for p in PARTS)
            size = f"{image.shape[1] * scale}x{image.shape[0] * scale}"
            print(f"{grid}x{grid:<6} {size:>9} {stats['faces']:5d} {stats['calls']:5d} "
                  f"{1000 * median:9.1f} {1000 * np.percentile(totals, 90):7.1f} "
                  f"{1000 * median / max(stats['faces'], 1):7.2f} {parts} {1 / median:10.1f}", flush=True)
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
