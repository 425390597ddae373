"""Classifier speed: EmotionClassifier.predict_proba on one batch of faces, for checkpoints side by side.

    python -m benchmarks.classifier_latency [--batch 50] [--checkpoints checkpoints/A checkpoints/B] [--stock-xla]

Times real FER2013 Training faces when FER2013_PATH is set (random pixels otherwise; the first line says which),
interleaving the checkpoints round by round so machine noise hits them alike, and prints each one's median latency
and faces/s, and its faces/s as a multiple of the first checkpoint's. JAX is set up as the bot sets it up (one
single-threaded device per core, each taking part of the batch); --stock-xla keeps XLA's default instead (one
multi-threaded device): `python -m benchmarks.xla_setups classifier_latency` runs the two side by side.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import numpy as np

from benchmarks.command import (
    add_checkpoints_option,
    add_xla_option,
    benchmark_parser,
    checkpoints_compared,
    load_at_end,
    machine,
    print_json,
    run_benchmark,
    set_up_xla,
)
from benchmarks.timing import interleaved_medians_ms
from ferbot import EmotionClassifier
from ferbot.console import whole_number


def faces(n: int) -> tuple[np.ndarray, str]:
    """`n` faces to time, and what they are: FER2013 Training faces from $FER2013_PATH, else random pixels."""
    path = os.environ.get("FER2013_PATH")
    if path:
        from train.data import load_fer2013

        return load_fer2013(path).train.images[:n], "FER2013 Training faces"
    return np.random.default_rng(0).integers(0, 256, (n, 48, 48), dtype=np.uint8), "random pixels (no $FER2013_PATH)"


def _label(path: Path) -> str:
    """A checkpoint's folder as the table names it: from the working folder, where it lies under it."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def main() -> None:
    p = benchmark_parser(__doc__)
    p.add_argument("--batch", type=whole_number(1), default=50, help="faces per call (default 50)")
    p.add_argument("--rounds", type=whole_number(1), default=5, help="interleaved rounds (default 5)")
    p.add_argument("--calls", type=whole_number(1), default=20,
                   help="timed calls per checkpoint and round (default 20)")
    add_checkpoints_option(p)
    add_xla_option(p)
    args = p.parse_args()
    at_start = machine()  # before the classifiers load and compile, and before the timed rounds
    set_up_xla(args)
    batch, what = faces(args.batch)
    classifiers = {_label(path): EmotionClassifier.load(path) for path in checkpoints_compared(args)}
    calls = [(classifier.predict_proba, (batch,)) for classifier in classifiers.values()]
    medians = dict(zip(classifiers, (ms / 1000 for ms in interleaved_medians_ms(calls, args.rounds, args.calls))))
    if args.json:
        print_json("faces/s", {name: args.batch / median for name, median in medians.items()})
        return
    print(f"predict_proba on {args.batch} {what}; {at_start}, {len(jax.devices())} JAX device(s), "
          f"{args.rounds} rounds x {args.calls} calls")
    first = next(iter(medians.values()))
    for name, median in medians.items():
        params = classifiers[name].card["architecture"]["parameters"]
        print(f"  {name:32s} median {1000 * median:6.1f} ms  {args.batch / median:7.0f} faces/s  "
              f"({params:,} params; {first / median:.2f}x the first's faces/s)")
    print(load_at_end())


if __name__ == "__main__":
    run_benchmark(main)
