"""Latency of the live bot on a synthetic 1920x1080 meeting screen with 3x3, 5x5 and 7x7 galleries of real faces.

    python -m benchmarks.bot_latency [--faces demo|fer2013] [--frames 20] [--seconds 10] [--checkpoint PATH]

For each gallery: analysis latency per frame (median and p90) and its parts (self-view marker search, detect,
crop, classify, head pose, track), faces found, detector calls, and the analysis rate one worker sustains. Then the
pipeline runs for --seconds with the gallery as a live screen (a new frame every tick) and a null sink at
1280x720 and 30 fps, reporting the sustained output frame rate while the worker analyses. Screen capture
itself (mss) is not included; nothing is written to disk.

Faces: the shipped demo portraits (default; webcam-like framing) or FER2013 PrivateTest faces
(--faces fer2013, read from $FER2013_PATH).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics

import numpy as np

from ferbot import EmotionClassifier
from ferbot.analysis import FrameAnalyzer
from ferbot.bot import BotOptions, build_bot
from ferbot.capture.base import Frame, SourceClock
from ferbot.capture.demo import demo_pictures
from ferbot.classify.devices import use_cpu_cores
from ferbot.track import FaceTracker
from tests.helpers.screens import compose_gallery

GRIDS = (3, 5, 7)
OUTPUT = (1280, 720)
PARTS = ("self_view", "detect", "crop", "classify", "pose", "track")


class LiveScreen:
    """A screen that shows the same picture but, like a real capture, is a new frame on every read."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self._clock = SourceClock()
        self._index = 0

    def read(self) -> Frame:
        self._index += 1
        return Frame(self.image, self._clock.now(), self._index)

    def close(self) -> None:
        pass


def pictures(kind: str, count: int) -> list[np.ndarray]:
    if kind == "fer2013":
        from train.data import load_fer2013

        return list(load_fer2013(os.environ["FER2013_PATH"]).test.images[2:2 + count])
    portraits = demo_pictures()
    portraits += [p[:, ::-1] for p in portraits]
    return [portraits[i % len(portraits)] for i in range(count)]


def measure_analysis(analyzer: FrameAnalyzer, source: LiveScreen, frames: int) -> dict:
    analyzer.analyze(source.read())  # first frame: tracker start-up
    runs, faces, calls = [], 0, 0
    for _ in range(frames):
        result = analyzer.analyze(source.read())
        runs.append(result.timings)
        faces, calls = len(result.visible_faces), analyzer.finder.detector_calls
    return {"runs": runs, "faces": faces, "calls": calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", choices=("demo", "fer2013"), default="demo")
    parser.add_argument("--frames", type=int, default=20, help="timed analyses per gallery")
    parser.add_argument("--seconds", type=float, default=10, help="pipeline run per gallery")
    parser.add_argument("--checkpoint", default=None, help="a classifier checkpoint folder (default: the bot's)")
    args = parser.parse_args()

    use_cpu_cores()
    classifier = EmotionClassifier.load(args.checkpoint, BotOptions.model)  # the bot's classifier
    classifier.warmup()
    print(f"ferbot analysis on a 1920x1080 screen, {args.faces} faces; {os.cpu_count()} CPU cores "
          f"({platform.processor() or platform.machine()}), load average {os.getloadavg()[0]:.1f} at start")
    print(f"{'gallery':>8} {'faces':>5} {'calls':>5} {'median ms':>9} {'p90 ms':>7} {'ms/face':>7} "
          + " ".join(f"{p:>9}" for p in PARTS) + f" {'analyses/s':>10}")
    pipeline_rows = []
    for grid in GRIDS:
        count = grid * grid
        screen = compose_gallery(pictures(args.faces, count), (1920, 1080),
                                 names=[f"Student {i + 1}" for i in range(count)]).image
        options = BotOptions(sink="none", size=OUTPUT, analysis_rate=None)  # analysis as fast as it goes
        with build_bot(options, source=LiveScreen(screen), classifier=classifier) as bot:
            stats = measure_analysis(bot.analyzer, bot.source, args.frames)
            totals = [r["total"] for r in stats["runs"]]
            median = statistics.median(totals)
            parts = " ".join(f"{1000 * statistics.median(r[p] for r in stats['runs']):9.1f}" for p in PARTS)
            print(f"{grid}x{grid:<6} {stats['faces']:5d} {stats['calls']:5d} {1000 * median:9.1f} "
                  f"{1000 * np.percentile(totals, 90):7.1f} {1000 * median / max(stats['faces'], 1):7.2f} "
                  f"{parts} {1 / median:10.1f}")
            bot.analyzer.tracker = FaceTracker()
            pipeline_rows.append((grid, bot.run(args.seconds)))
    print(f"\npipeline: live screen -> analysis worker + render {OUTPUT[0]}x{OUTPUT[1]} at 30 fps -> null sink, "
          f"{args.seconds:g} s each")
    print(f"{'gallery':>8} {'output fps':>10} {'analyses/s':>10} {'analysis ms':>11}")
    for grid, run in pipeline_rows:
        print(f"{grid}x{grid:<6} {run.output_fps:10.1f} {run.analysis_rate:10.1f} {1000 * run.analysis_s:11.1f}")
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other processes on this machine distort the numbers)")


if __name__ == "__main__":
    main()
