"""How long `ferbot` takes to start: the first and the second launch, to the first output frame and the first
analysis (labels on the feed).

    python -m benchmarks.startup [--runs 2] [--sink none] [-- EXTRA FERBOT OPTIONS]

Runs `python -m ferbot --demo --sink none --duration 2 -v` --runs times in a row with an empty persistent
compilation cache at first (a fresh $XDG_CACHE_HOME in a temporary folder, which ferbot keeps its cache under on
every system, so the user's own cache is left alone; matplotlib's font cache, which Linux also keeps there, stays
the user's through $MPLCONFIGDIR, so only the compilation cache starts empty): the first launch compiles the
classifier and fills the cache, the later ones load from it. Times are
from starting the process to the log line that reports each event. The operating system's file cache is warm after
the first launch for every run alike (Python's and the libraries' files); a launch right after booting the laptop
takes longer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import matplotlib

from benchmarks.command import benchmark_parser, load_at_end, machine, run_benchmark
from ferbot.console import whole_number

EVENTS = {"classifier loaded": "emotion classifier:", "first output frame": "first output frame sent",
          "first analysis": "ferbot.pipeline: frame "}


def launch(cache_home: str, sink: str, extra: list[str], logged: list[str] | None = None) -> dict[str, float]:
    """One launch with `cache_home` as $XDG_CACHE_HOME, where ferbot keeps its compilation cache, but with the
    user's matplotlib cache (ferbot.report imports matplotlib; an empty font cache costs a second or two): seconds
    from starting the process to each of EVENTS, and to its exit; what it logged is appended to `logged` when
    given."""
    env = {**os.environ, "XDG_CACHE_HOME": cache_home, "MPLCONFIGDIR": matplotlib.get_cachedir()}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "ferbot", "--demo", "--sink", sink, "--duration", "2", "-v",
                                *extra], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    seen: dict[str, float] = {}
    error = ""
    for line in process.stderr:
        if logged is not None:
            logged.append(line)
        if line.startswith("ferbot: error: "):  # its one-line refusal, e.g. a --sink file: that now exists
            error = line.strip()
        for event, text in EVENTS.items():
            if event not in seen and text in line:
                seen[event] = time.monotonic() - start
    process.wait()
    if process.returncode:
        raise SystemExit(f"ferbot exited with status {process.returncode}" + (f" ({error})" if error else ""))
    seen["exit"] = time.monotonic() - start
    return seen


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--runs", type=whole_number(1), default=2, help="launches in a row (default 2)")
    parser.add_argument("--sink", default="none",
                        help="ferbot's --sink (default none; a file: sink only with --runs 1: ferbot never overwrites "
                             "a file)")
    parser.add_argument("extra", nargs="*", help="more ferbot options, after --")
    args = parser.parse_args()
    if args.sink.startswith("file:") and args.runs > 1:
        parser.error("a file: sink takes --runs 1 (ferbot never overwrites a file, so the second launch would stop)")
    print(f"ferbot --demo start-up; {machine()}")
    print(f"{'launch':>8} " + " ".join(f"{e:>19}" for e in (*EVENTS, "exit")))
    with tempfile.TemporaryDirectory() as cache_home:
        for run in range(1, args.runs + 1):
            times = launch(cache_home, args.sink, args.extra)
            print(f"{run:>8} " + " ".join(f"{times.get(e, float('nan')):17.2f} s" for e in (*EVENTS, "exit")),
                  flush=True)
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
