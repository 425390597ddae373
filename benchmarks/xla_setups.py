"""XLA's two CPU set-ups side by side: ferbot's (one single-threaded XLA device per core, the batch split over them)
against XLA's default (`--stock-xla`: one multi-threaded device), for one benchmark, in one run.

    python -m benchmarks.xla_setups [--rounds 3] classifier_latency [ITS OPTIONS, e.g. --checkpoints PATH]
    python -m benchmarks.xla_setups [--rounds 3] train_throughput [ITS OPTIONS, e.g. --seconds 5]

JAX fixes its devices when it starts, so each set-up runs as a fresh process of the benchmark (with `--json`); the
two alternate, round after round, so machine noise hits them alike. Prints each figure's median over the rounds
under both set-ups, and ferbot's as a multiple of XLA's default (above 1: ferbot's set-up is faster).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from benchmarks.command import benchmark_parser, load_at_end, machine, run_benchmark
from ferbot.console import whole_number

BENCHMARKS = ("classifier_latency", "train_throughput")
SETUPS = {"ferbot": [], "stock XLA": ["--stock-xla"]}


def one_run(benchmark: str, options: list[str], setup: list[str]) -> dict:
    """One fresh process of the benchmark under a set-up: its JSON line ({"unit": ..., "results": {...}})."""
    command = [sys.executable, "-m", f"benchmarks.{benchmark}", *options, *setup, "--json"]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:])} failed:\n{run.stderr.strip()}")
    try:
        return json.loads(run.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise SystemExit(f"{' '.join(command[2:])} printed no figures:\n{run.stdout.strip()}") from None


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--rounds", type=whole_number(1), default=3,
                        help="runs of each set-up, alternating (default 3)")
    parser.add_argument("benchmark", choices=BENCHMARKS, help="the benchmark to run under both set-ups")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="the benchmark's own options")
    args = parser.parse_args()
    chosen_here = {"--stock-xla", "--json", "-h", "--help"} & set(args.options)
    if chosen_here:
        parser.error(f"{', '.join(sorted(chosen_here))}: not among the benchmark's options here (this script sets "
                     f"the XLA set-up and the output itself; `python -m benchmarks.{args.benchmark} --help` for its "
                     "options)")
    at_start = machine()
    figures: dict[str, dict[str, list[float]]] = {name: {} for name in SETUPS}
    unit = ""
    for round_ in range(args.rounds):
        for name, setup in SETUPS.items():
            print(f"round {round_ + 1}/{args.rounds}: {name}", file=sys.stderr, flush=True)
            result = one_run(args.benchmark, args.options, setup)
            unit = result["unit"]
            for label, value in result["results"].items():
                figures[name].setdefault(label, []).append(value)
    print(f"{args.benchmark} {' '.join(args.options)}; {at_start}; {args.rounds} rounds, medians in {unit}")
    print(f"  {'':32s} {'ferbot':>10s} {'stock XLA':>10s}  ferbot / stock")
    for label, values in figures["ferbot"].items():
        ours, stock = statistics.median(values), statistics.median(figures["stock XLA"][label])
        print(f"  {label:32s} {ours:10.1f} {stock:10.1f}  {ours / stock:.2f}x")
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
