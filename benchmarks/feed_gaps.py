"""How smooth the feed is while the bot analyses: gaps between output frames of the demo gallery, and what each
analysis costs the output thread (the annotation layer drawn anew, the mood panel updated).

    python -m benchmarks.feed_gaps [--seconds 12]

Runs the bot as `ferbot --demo --sink none` builds it (use_bot_cpu, 30 fps, 2.5 analyses a second) for a few
seconds to warm up, then for `--seconds`, timing every output frame's send and each layer drawing and mood update.
Prints the median, 99th percentile and longest gap between frames sent, the gaps over 50 ms, and the median and
longest layer drawing and mood update. To compare two versions, run it on both checkouts one after the other on
the same machine (no baseline is kept in this one).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from benchmarks.command import benchmark_parser, load_at_end, machine, run_benchmark
from ferbot.bot import BotOptions, build_bot, use_bot_cpu
from ferbot.console import whole_number

WARM_UP_S = 6  # the classifier's batch sizes compile in the background meanwhile
SLOW_GAP_S = 0.05  # a gap between output frames a viewer notices (a frame and a half at 30 fps)


def timed(calls: list[tuple[float, float]], function: Callable) -> Callable:
    """`function`, recording (start, duration) of each call in `calls`."""
    def wrapper(*args, **kwargs):
        start = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            calls.append((start, time.monotonic() - start))
    return wrapper


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--seconds", type=whole_number(2), default=12, help="seconds measured (default 12)")
    args = parser.parse_args()
    use_bot_cpu()
    print(f"The feed's gaps while the demo gallery is analysed, {args.seconds} s; {machine()}")
    sends, layers, moods = [], [], []
    with build_bot(BotOptions(source="demo", sink="none")) as bot:
        renderer = bot.pipeline.renderer
        bot.pipeline.sink.send = timed(sends, bot.pipeline.sink.send)
        renderer._draw_layer = timed(layers, renderer._draw_layer)
        renderer.update_mood = timed(moods, renderer.update_mood)
        bot.run(WARM_UP_S)
        for calls in (sends, layers, moods):
            calls.clear()
        bot.run(args.seconds)
    gaps = sorted(later - earlier for (earlier, _), (later, _) in zip(sends, sends[1:]))
    print(f"frames sent {len(sends)}; gap median {1000 * statistics.median(gaps):.1f} ms, "
          f"99th percentile {1000 * gaps[int(0.99 * len(gaps))]:.0f} ms, longest {1000 * gaps[-1]:.0f} ms, "
          f"over {1000 * SLOW_GAP_S:.0f} ms: {sum(gap > SLOW_GAP_S for gap in gaps)}")
    for name, calls in (("annotation layer drawn", layers), ("mood panel updated", moods)):
        durations = [duration for _, duration in calls]
        print(f"{name}: {len(durations)} times, median {1000 * statistics.median(durations):.1f} ms, "
              f"longest {1000 * max(durations):.1f} ms")
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
