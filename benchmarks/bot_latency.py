"""Latency of the live bot's analysis on a synthetic 1920x1080 meeting screen with 3x3, 5x5 and 7x7 galleries of
real faces.

    python -m benchmarks.bot_latency [--faces demo|fer2013] [--frames 20] [--checkpoint PATH]

For each gallery: analysis latency per frame (median and p90) and its parts (self-view marker search, detect,
crop, classify, head pose, track), faces found, detector calls, and the analysis rate one worker sustains. The
output frame rate while the bot analyses is `benchmarks.cpu_budget`'s. Screen capture itself (mss) is not
included; nothing is written to disk.

Faces: the shipped demo portraits (default; webcam-like framing) or FER2013 Training faces (--faces fer2013, read
from $FER2013_PATH).
"""

from __future__ import annotations

import statistics

import numpy as np

from benchmarks.command import (
    add_checkpoint_option,
    benchmark_parser,
    bot_classifier,
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


def measure_analysis(analyzer: FrameAnalyzer, source: MeetingScreen, frames: int) -> dict:
    """Timings of `frames` analyses of the screen after a first one (the tracker's start), faces found and
    detector calls."""
    analyzer.analyze(source.read())
    runs, faces, calls = [], 0, 0
    for _ in range(frames):
        result = analyzer.analyze(source.read())
        runs.append(result.timings)
        faces, calls = len(result.visible_faces), analyzer.finder.detector_calls
    return {"runs": runs, "faces": faces, "calls": calls}


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--faces", choices=("demo", "fer2013"), default="demo",
                        help="the gallery's faces: the demo portraits (default) or FER2013 Training faces")
    parser.add_argument("--frames", type=whole_number(1), default=20, help="timed analyses per gallery (default 20)")
    add_checkpoint_option(parser)
    args = parser.parse_args()
    path = fer2013_path(parser) if args.faces == "fer2013" else None
    at_start = machine()  # before the classifier's warm-up compiles
    classifier = bot_classifier(args.checkpoint)
    print(f"ferbot analysis on a 1920x1080 screen, {args.faces} faces; {at_start}")
    print(f"{'gallery':>8} {'faces':>5} {'calls':>5} {'median ms':>9} {'p90 ms':>7} {'ms/face':>7} "
          + " ".join(f"{p:>9}" for p in PARTS) + f" {'analyses/s':>10}")
    for grid in GRIDS:
        screen = MeetingScreen(gallery_screen(pictures(args.faces, grid * grid, path)), paused=True)
        with build_bot(BotOptions(sink="none"), source=screen, classifier=classifier) as bot:
            stats = measure_analysis(bot.analyzer, screen, args.frames)
        totals = [r["total"] for r in stats["runs"]]
        median = statistics.median(totals)
        parts = " ".join(f"{1000 * statistics.median(r[p] for r in stats['runs']):9.1f}" for p in PARTS)
        print(f"{grid}x{grid:<6} {stats['faces']:5d} {stats['calls']:5d} {1000 * median:9.1f} "
              f"{1000 * np.percentile(totals, 90):7.1f} {1000 * median / max(stats['faces'], 1):7.2f} "
              f"{parts} {1 / median:10.1f}", flush=True)
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
