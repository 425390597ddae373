"""What the live bot costs the laptop it shares with the meeting app: CPU cores, analyses/s and output fps.

    python -m benchmarks.cpu_budget [--seconds 15] [--grids 3 5 7] [--rate HZ] [--checkpoint PATH] [--names]

For 3x3, 5x5 and 7x7 galleries of the demo portraits on a synthetic 1920x1080 meeting screen, the bot built as
`ferbot` builds it (1280x720 at 30 fps, null sink) runs for --seconds at each analysis rate: the default
(`--analysis-rate` unset; --rate HZ tries another) and `max` (analysis as fast as the CPU allows, the behaviour
before the default rate), and, at the default rate, on a paused screen (nothing moves: the worker's
unchanged-screen check at work).
With --names, every run reads the tiles' name tags as `ferbot --names` does.
Reported per run: the process's CPU seconds per wall second (from the OS; 1.0 = one whole core,
all of the process's threads together), analyses per second and output frames per second.

The screen is live: every read is a new frame, with the gallery shifted by a few pixels as faces sway, converted
from BGRA to RGB as a real capture is. The X11 screen grab itself (mss) is not included, nor a virtual camera's
colour conversion (pyvirtualcam), so a real run costs a little more.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.command import (
    add_checkpoint_option,
    benchmark_parser,
    bot_classifier,
    load_at_end,
    machine,
    run_benchmark,
)
from benchmarks.gallery import OUTPUT, MeetingScreen, gallery_screen, pictures
from benchmarks.timing import cpu_seconds
from ferbot import EmotionClassifier
from ferbot.bot import BotOptions, build_bot
from ferbot.console import number, whole_number
from ferbot.pipeline import DEFAULT_ANALYSIS_RATE


def measure(classifier: EmotionClassifier, screen: np.ndarray, rate: float | None, seconds: float,
            paused: bool = False, names: bool = False) -> dict:
    """One run: CPU cores used (the process's CPU time over wall time), analyses/s and output fps."""
    options = BotOptions(sink="none", size=OUTPUT, analysis_rate=rate, names=names)
    with build_bot(options, source=MeetingScreen(screen, paused), classifier=classifier) as bot:
        bot.run(min(2.0, seconds))  # warm up: the first analyses, the tracker, the caches
        before, start = cpu_seconds(), time.monotonic()
        stats = bot.run(seconds)
        cpu, wall = cpu_seconds() - before, time.monotonic() - start
    return {"cores": cpu / wall, "analyses": stats.analysis_rate, "fps": stats.output_fps}


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--seconds", type=number(0, strict=True), default=15,
                        help="measured run per gallery and rate (default 15)")
    parser.add_argument("--grids", type=whole_number(1), nargs="+", default=[3, 5, 7],
                        help="galleries of N x N faces (default 3 5 7)")
    parser.add_argument("--rate", type=number(0, strict=True), default=DEFAULT_ANALYSIS_RATE,
                        help=f"the capped rate to measure beside 'max' (default: ferbot's, {DEFAULT_ANALYSIS_RATE:g})")
    add_checkpoint_option(parser)
    parser.add_argument("--names", action="store_true", help="read the name tags (ferbot --names)")
    args = parser.parse_args()
    at_start = machine()  # before the classifier's warm-up compiles
    classifier = bot_classifier(args.checkpoint)
    print(f"ferbot's CPU use on a 1920x1080 meeting screen, output {OUTPUT[0]}x{OUTPUT[1]} at 30 fps, "
          f"{args.seconds:g} s per run{', --names' if args.names else ''}; {at_start}")
    label = "default" if args.rate == DEFAULT_ANALYSIS_RATE else "capped"
    print(f"{'gallery':>8} | {label + ' (' + format(args.rate, 'g') + ' Hz): cores':>24} {'analyses/s':>10} "
          f"{'fps':>5} | {'max: cores':>10} {'analyses/s':>10} {'fps':>5} | {'paused screen: cores':>20} "
          f"{'analyses/s':>10}")
    for grid in args.grids:
        screen = gallery_screen(pictures("demo", grid * grid))
        default = measure(classifier, screen, args.rate, args.seconds, names=args.names)
        uncapped = measure(classifier, screen, None, args.seconds, names=args.names)
        paused = measure(classifier, screen, args.rate, args.seconds, paused=True, names=args.names)
        print(f"{grid}x{grid:<6} | {default['cores']:24.2f} {default['analyses']:10.1f} {default['fps']:5.1f} | "
              f"{uncapped['cores']:10.2f} {uncapped['analyses']:10.1f} {uncapped['fps']:5.1f} | "
              f"{paused['cores']:20.2f} {paused['analyses']:10.1f}", flush=True)
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
