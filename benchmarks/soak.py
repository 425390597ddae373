"""Soak test: the whole live bot for a long time, sampling memory, frame rates and CPU.

    python -m benchmarks.soak [--minutes 30] [--interval 60] [--sink none|file:PATH] [--out soak.csv] [--plot soak.png]
                              [--lesson] [--names] [--log PATH]

Runs what `ferbot --demo` runs (demo gallery -> analysis worker with the bot's classifier, `webcam` unless
--checkpoint, MediaPipe detector and tracker -> renderer at --size and --fps -> sink), in this process. With
--lesson the screen is a live meeting that changes like a lesson (tests.helpers.live: 13 tiles, one camera off, two
students of the same name, the tiles reordered every --reorder-s seconds, a student away for the last --away-s
seconds of every 10 minutes); --names and --log PATH are ferbot's options. Every --interval seconds it records the
process's resident memory (VmRSS), its CPU (cores: CPU seconds per wall second, all threads), the output frame rate
and the analysis rate over that interval, and the faces found per analysed frame. At the end: a table, the memory
growth from the sample at minute 5 (the first, in a shorter run) to the last, the output fps's min/median/max, the
mean CPU and, with --log, whether the log is complete (every analysed frame with faces in it, whole rows, each name
on one identity). Ctrl-C ends it early with the samples so far; a source, sink or log that fails while it runs ends
it in one line (exit status 1), the samples so far still written, without a verdict.
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import resource
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.command import (
    add_checkpoint_option,
    benchmark_command,
    benchmark_parser,
    machine,
    output_file,
    run_benchmark,
)
from benchmarks.timing import cpu_seconds
from ferbot.bot import BotOptions, build_bot, use_bot_cpu
from ferbot.console import fail, number, output_size, setup_logging
from ferbot.pipeline import Pipeline, RunStats
from ferbot.report import write_report
from ferbot.sink import SINK_CHOICES, sink_option
from tests.helpers.live import Lesson, LiveMeeting

log = logging.getLogger("soak")

REORDER_S, AWAY_S = 60.0, 120.0  # --lesson's defaults (see --help)
MAX_GROWTH = 0.02  # RSS may grow this fraction from minute BASELINE_MIN to the end and still count as steady
BASELINE_MIN = 5.0
MIN_FPS_SHARE = 0.9  # every interval's output fps within this share of the median counts as steady


@dataclass
class Sample:
    """One interval's figures."""

    minutes: float
    rss_mib: float
    output_fps: float
    analyses_per_s: float
    faces_per_analysis: float
    load_average: float
    cores: float  # CPU seconds of this process per wall second over the interval


def rss_mib() -> float:
    """This process's resident memory now (Linux: /proc/self/status), else its peak, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


class Sampler(threading.Thread):
    """Every `interval` seconds, the figures of the interval just ended; a last one when the run ends."""

    def __init__(self, pipeline: Pipeline, interval: float):
        super().__init__(name="soak-sampler", daemon=True)
        self.pipeline, self.interval = pipeline, interval
        self.samples: list[Sample] = []
        self.done = threading.Event()
        self._start = self._last = time.monotonic()
        self._counts = (0, 0, 0)  # frames sent, frames analysed, faces seen at the last sample
        self._cpu = cpu_seconds()

    def run(self) -> None:
        while True:
            ended = self.done.wait(self.interval)
            if not ended or time.monotonic() - self._last >= self.interval / 2:  # skip a too short last stretch
                self.samples.append(self._sample())
            if ended:
                return

    def _sample(self) -> Sample:
        now = time.monotonic()
        worker = self.pipeline.worker
        counts = self.pipeline.stats.frames_sent, worker.analysed, worker.faces_seen
        sent, analysed, faces = (new - old for new, old in zip(counts, self._counts))
        span, self._last, self._counts = now - self._last, now, counts
        cpu, self._cpu = cpu_seconds() - self._cpu, cpu_seconds()
        sample = Sample((now - self._start) / 60, rss_mib(), sent / span, analysed / span, faces / max(analysed, 1),
                        os.getloadavg()[0], cpu / span)
        log.info("%5.1f min: RSS %.0f MiB, %.1f fps out, %.1f analyses/s, %.1f faces each, %.2f cores",
                 sample.minutes, sample.rss_mib, sample.output_fps, sample.analyses_per_s, sample.faces_per_analysis,
                 sample.cores)
        return sample


def soak(args: argparse.Namespace) -> tuple[list[Sample], RunStats]:
    """Run the demo pipeline (or the lesson) for args.minutes, sampling every args.interval seconds."""
    options = BotOptions(source="demo", sink=args.sink, fps=args.fps, size=args.size, checkpoint=args.checkpoint,
                         names=args.names, log=str(args.log) if args.log else None)
    source = LiveMeeting(Lesson(reorder_s=args.reorder_s, away_s=args.away_s)) if args.lesson else None
    with build_bot(options, source=source) as bot:
        log.info("soaking for %g min (RSS %.0f MiB at start); Ctrl-C ends it early", args.minutes, rss_mib())
        sampler = Sampler(bot.pipeline, args.interval)
        sampler.start()
        try:
            stats = bot.run(args.minutes * 60)
        finally:
            sampler.done.set()
            sampler.join()
    log.info("sent %d frames (%.1f fps), analysed %d (%.1f per s)", stats.frames_sent, stats.output_fps,
             stats.frames_analysed, stats.analysis_rate)
    return sampler.samples, stats


def verdict(samples: list[Sample]) -> list[str]:
    """Memory growth from minute BASELINE_MIN (or the first sample) to the last, the output fps's spread, the
    CPU."""
    first = next((s for s in samples if s.minutes >= BASELINE_MIN - 0.5), samples[0])
    last = samples[-1]
    growth = last.rss_mib - first.rss_mib
    fps = [s.output_fps for s in samples]
    median = statistics.median(fps)
    memory_ok = growth <= MAX_GROWTH * first.rss_mib
    fps_ok = min(fps) >= MIN_FPS_SHARE * median
    return [f"memory: {first.rss_mib:.0f} MiB at {first.minutes:.1f} min -> {last.rss_mib:.0f} MiB at "
            f"{last.minutes:.1f} min: {growth:+.1f} MiB ({growth / first.rss_mib:+.1%}), peak "
            f"{max(s.rss_mib for s in samples):.0f} MiB: {'steady' if memory_ok else 'GROWING'}",
            f"output fps: min {min(fps):.1f}, median {median:.1f}, max {max(fps):.1f}: "
            f"{'steady' if fps_ok else 'UNSTEADY'}",
            f"CPU: mean {statistics.mean(s.cores for s in samples):.2f} cores, max {max(s.cores for s in samples):.2f}"]


def log_check(path: Path, analysed: int) -> list[str]:
    """Whether the log is complete: whole rows, every analysed frame in it, and the identities per name."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    whole = all(len(row) == len(header) for row in rows)
    frames = {row[header.index("frame")] for row in rows}
    ids: dict[str, set[str]] = {}
    for row in rows:
        ids.setdefault(row[header.index("name")], set()).add(row[header.index("track_id")])
    lines = [f"log: {len(rows)} rows, {'all whole' if whole else 'HALF-WRITTEN ROWS'}; {len(frames)} of {analysed} "
             f"analysed frames in it"]
    lines += [f"  {name or '(no name)'}: {len(found)} id(s) {', '.join(sorted(found, key=int))}"
              for name, found in sorted(ids.items())]
    return lines


def table(samples: list[Sample]) -> str:
    lines = [f"{'minutes':>7} {'RSS MiB':>8} {'out fps':>7} {'analyses/s':>10} {'faces':>5} {'load':>5} {'cores':>5}"]
    lines += [f"{s.minutes:7.1f} {s.rss_mib:8.1f} {s.output_fps:7.1f} {s.analyses_per_s:10.2f} "
              f"{s.faces_per_analysis:5.1f} {s.load_average:5.1f} {s.cores:5.2f}" for s in samples]
    return "\n".join(lines)


def write_csv(samples: list[Sample], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(samples[0])))
        writer.writeheader()
        writer.writerows(asdict(s) for s in samples)


def plot(samples: list[Sample], path: Path) -> None:
    """Memory and output fps against minutes, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [s.minutes for s in samples]
    fig, (memory, fps) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
    memory.plot(minutes, [s.rss_mib for s in samples], marker="o")
    memory.set_ylabel("RSS (MiB)")
    memory.set_ylim(bottom=0)
    fps.plot(minutes, [s.output_fps for s in samples], marker="o", label="output fps")
    fps.plot(minutes, [s.analyses_per_s for s in samples], marker="o", label="analyses/s")
    fps.set_ylabel("per second")
    fps.set_ylim(bottom=0)
    fps.set_xlabel("minutes")
    fps.legend()
    fig.suptitle("ferbot soak")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--minutes", type=number(0, strict=True), default=30.0, help="how long to run (default 30)")
    parser.add_argument("--interval", type=number(0, strict=True), default=60.0,
                        help="seconds between samples (default 60)")
    parser.add_argument("--sink", default="none", type=sink_option, metavar=SINK_CHOICES,
                        help="where the feed goes, as ferbot's --sink (default none; e.g. file:soak.avi)")
    parser.add_argument("--fps", type=number(1, strict=False, maximum=60), default=30.0,
                        help="output frames per second (default 30)")
    parser.add_argument("--size", type=output_size, default=(1280, 720), metavar="WxH",
                        help="output frame size, as ferbot's --size (default 1280x720)")
    add_checkpoint_option(parser)
    parser.add_argument("--out", type=output_file(), default=Path("soak.csv"),
                        help="CSV of the samples (default soak.csv)")
    parser.add_argument("--plot", type=output_file(".png"), metavar="PNG",
                        help="also plot memory and fps against minutes")
    parser.add_argument("--lesson", action="store_true", help="a live meeting that changes, instead of the demo")
    parser.add_argument("--reorder-s", type=number(0, strict=True), default=None,
                        help=f"with --lesson: seconds between reorders (default {REORDER_S:g})")
    parser.add_argument("--away-s", type=number(0, strict=False, maximum=600), default=None,
                        help=f"with --lesson: seconds a student is away at the end of every 10 minutes (default "
                             f"{AWAY_S:g})")
    parser.add_argument("--names", action="store_true", help="ferbot's --names")
    parser.add_argument("--log", type=Path, metavar="PATH", help="ferbot's --log (checked for completeness at the end)")
    args = parser.parse_args(argv)
    if args.interval > args.minutes * 60:
        parser.error("--interval must be at most the run's length in seconds (--minutes times 60)")
    if not args.lesson and (args.reorder_s is not None or args.away_s is not None):
        parser.error("--reorder-s and --away-s change the lesson of --lesson: add --lesson, or leave them out")
    args.reorder_s = REORDER_S if args.reorder_s is None else args.reorder_s
    args.away_s = AWAY_S if args.away_s is None else args.away_s
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging()
    at_start = machine()
    use_bot_cpu()
    samples, stats = soak(args)  # an input it cannot use (--log onto an existing file) ends in run_benchmark
    if samples:
        write_csv(samples, args.out)
    if stats.error:  # a source, sink or log failed: a run cut short gets no verdict
        kept = f"; its {len(samples)} samples are in {args.out}" if samples else ""
        return fail(benchmark_command(), f"the soak stopped after {stats.wall_s / 60:.1f} min: {stats.error}{kept}")
    if not samples:
        log.error("no samples: the run ended before the first --interval")
        return 1
    print(f"\nferbot soak, {'a changing lesson' if args.lesson else '--demo'}{', --names' if args.names else ''}"
          f"{', --log' if args.log else ''}, {args.size[0]}x{args.size[1]} at {args.fps:g} fps, sink {args.sink}; "
          f"{at_start}")
    print(table(samples))
    print("\n".join(verdict(samples)))
    if args.log:
        print("\n".join(log_check(args.log, stats.frames_analysed)))
        print(f"report: {write_report(args.log)}")
    if args.plot:
        plot(samples, args.plot)
    print(f"samples: {args.out}" + (f", plot: {args.plot}" if args.plot else ""))
    return 0


if __name__ == "__main__":
    run_benchmark(main)
