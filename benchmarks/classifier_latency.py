"""Median latency of EmotionClassifier.predict_proba on one batch of faces, for checkpoints side by side.

    python -m benchmarks.classifier_latency [--batch 50] [--checkpoints checkpoints/A checkpoints/B] [--stock-xla]

Times real FER2013 Training faces when FER2013_PATH is set (random pixels otherwise; the first line says which),
interleaving the checkpoints round by round so machine noise hits them alike. JAX is set up as the bot sets it up (one
single-threaded device per core, each taking part of the batch); --stock-xla keeps XLA's default instead (one
multi-threaded device), to compare the two in separate runs.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import jax
import numpy as np

from benchmarks.command import benchmark_parser, load_at_end, machine, run_benchmark
from ferbot import EmotionClassifier
from ferbot.classify.checkpoint import shipped_models
from ferbot.classify.devices import use_cpu_cores
from ferbot.console import whole_number


def faces(n: int) -> tuple[np.ndarray, str]:
    """`n` faces to time, and what they are: FER2013 Training faces from $FER2013_PATH, else random pixels."""
    path = os.environ.get("FER2013_PATH")
    if path:
        from train.data import load_fer2013

        return load_fer2013(path).train.images[:n], "FER2013 Training faces"
    return np.random.default_rng(0).integers(0, 256, (n, 48, 48), dtype=np.uint8), "random pixels (no $FER2013_PATH)"


def main() -> None:
    p = benchmark_parser(__doc__)
    p.add_argument("--batch", type=whole_number(1), default=50, help="faces per call (default 50)")
    p.add_argument("--rounds", type=whole_number(1), default=5, help="interleaved rounds (default 5)")
    p.add_argument("--calls", type=whole_number(1), default=20,
                   help="timed calls per checkpoint and round (default 20)")
    p.add_argument("--checkpoints", nargs="*", type=Path, default=None,
                   help="checkpoint folders (default: the shipped ones)")
    p.add_argument("--stock-xla", action="store_true",
                   help="XLA's default CPU set-up (one multi-threaded device) instead of the bot's")
    args = p.parse_args()
    at_start = machine()  # before the classifiers load and compile, and before the timed rounds
    if not args.stock_xla:
        use_cpu_cores()
    paths = args.checkpoints or list(shipped_models().values())
    batch, what = faces(args.batch)
    classifiers = {path.name: EmotionClassifier.load(path) for path in paths}
    for clf in classifiers.values():
        clf.warmup()
    times = {name: [] for name in classifiers}
    for _ in range(args.rounds):
        for name, clf in classifiers.items():
            for _ in range(args.calls):
                t = time.perf_counter()
                clf.predict_proba(batch)
                times[name].append(time.perf_counter() - t)
    print(f"predict_proba on {args.batch} {what}; {at_start}, {len(jax.devices())} JAX device(s), "
          f"{args.rounds} rounds x {args.calls} calls")
    first = statistics.median(times[next(iter(times))])
    for name, values in times.items():
        med = statistics.median(values)
        params = classifiers[name].card["architecture"]["parameters"]
        print(f"  {name:24s} median {1000 * med:6.1f} ms  p90 {1000 * np.percentile(values, 90):6.1f} ms  "
              f"{args.batch / med:7.0f} faces/s  ({params:,} params, {med / first:.2f}x the first)")
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
