"""What the benchmarks' command lines share: --help shows the whole docstring, a usage mistake or an input that
cannot be used ends in one line, and the figures are printed beside the machine and its load."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Callable
from pathlib import Path

from ferbot import EmotionClassifier
from ferbot.bot import BOT_ERRORS, BotOptions, use_bot_cpu
from ferbot.classify.checkpoint import read_card, shipped_models
from ferbot.classify.devices import use_cpu_cores
from ferbot.console import OneLineParser, RawDescriptionHelpFormatter, fail, given_folder
from ferbot.files import folder_problem, nearest_existing
from train.config import ConfigError
from train.data import FER2013, DataError, load_fer2013

# Real photographs beside the checkout, which the benchmarks of faces read when it is there; only their public-
# domain and CC0 ones are copied into the repository (tests/data/faces).
SHARED_FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"

# A checkpoint, data, source, sink, log or OCR engine that cannot be used; each error says what to do.
INPUT_ERRORS = (*BOT_ERRORS, DataError, ConfigError)


def benchmark_parser(doc: str | None) -> OneLineParser:
    """An argument parser whose --help is the benchmark's docstring as written (usage line, what it measures, on
    which data)."""
    return OneLineParser(prog=benchmark_command(), description=doc, formatter_class=RawDescriptionHelpFormatter)


def benchmark_command() -> str:
    """How the running benchmark was started (python -m benchmarks.NAME), for its usage and error lines."""
    return f"python -m benchmarks.{Path(sys.argv[0]).stem}"


def run_benchmark(main: Callable[[], int | None]) -> None:
    """Runs a benchmark's `main` and exits with the status it returns (None: 0); an input that cannot be used ends
    it in one line with exit status 1."""
    try:
        status = main()
    except INPUT_ERRORS as err:
        sys.exit(fail(benchmark_command(), str(err)))
    sys.exit(status)


def add_checkpoint_option(parser: argparse.ArgumentParser) -> None:
    """--checkpoint PATH: the classifier of a benchmark that runs the bot (default: the bot's)."""
    parser.add_argument("--checkpoint", metavar="PATH", help="a classifier checkpoint folder (default: the bot's)")


def add_checkpoints_option(parser: argparse.ArgumentParser) -> None:
    """--checkpoints PATH...: the classifiers a benchmark compares side by side (checkpoints_compared)."""
    parser.add_argument("--checkpoints", nargs="+", type=Path, default=None, metavar="PATH",
                        help="checkpoint folders, side by side (default: the shipped ones)")


def checkpoints_compared(args: argparse.Namespace) -> list[Path]:
    """The --checkpoints given, or the shipped ones; CheckpointError, before any work, for one that is no
    checkpoint."""
    paths = args.checkpoints or list(shipped_models().values())
    for path in paths:
        read_card(path)
    return paths


def add_xla_option(parser: argparse.ArgumentParser) -> None:
    """--stock-xla: XLA's default CPU set-up instead of ferbot's; `python -m benchmarks.xla_setups` runs a
    benchmark both ways side by side, and `--json` is what it reads from each run."""
    parser.add_argument("--stock-xla", action="store_true",
                        help="XLA's default CPU set-up (one multi-threaded device) instead of ferbot's (one "
                             "single-threaded device per core); benchmarks.xla_setups compares the two")
    parser.add_argument("--json", action="store_true",
                        help="print only one JSON line of the figures (for benchmarks.xla_setups)")


def set_up_xla(args: argparse.Namespace, batch_size: int | None = None) -> None:
    """JAX's CPU devices as ferbot sets them up (use_cpu_cores), unless --stock-xla."""
    if not args.stock_xla:
        use_cpu_cores(batch_size)


def print_json(unit: str, results: dict[str, float]) -> None:
    """The figures (higher is better) as the one JSON line benchmarks.xla_setups reads."""
    print(json.dumps({"unit": unit, "results": results}))


def bot_classifier(checkpoint: str | None) -> EmotionClassifier:
    """JAX and OpenCV set up as the bot sets them up (use_bot_cpu), and the bot's classifier (BotOptions.model), or
    `checkpoint`, loaded and warmed up (every batch size compiled) before anything is timed."""
    use_bot_cpu()
    classifier = EmotionClassifier.load(checkpoint, BotOptions.model)
    classifier.warmup()
    return classifier


def fer2013_path(parser: argparse.ArgumentParser) -> str:
    """$FER2013_PATH, or a usage error that says how to set it."""
    path = os.environ.get("FER2013_PATH")
    if not path:
        parser.error("set FER2013_PATH to fer2013.npz or fer2013.csv (see the README's Data section)")
    return path


def official_fer2013(path: str) -> FER2013:
    """FER2013 from `path` with its official PublicTest and PrivateTest, or a DataError: an image-folder release
    whose test files name no split gets a validation split carved out of Training, faces the checkpoints were
    trained on."""
    data = load_fer2013(path)
    if not data.official_split:
        raise DataError(f"{path} does not say which test faces are PublicTest and which PrivateTest, which this "
                        "benchmark reads apart: use fer2013.npz or fer2013.csv")
    return data


def machine() -> str:
    """The CPU and its load now, for a benchmark's first line."""
    return (f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), load average "
            f"{os.getloadavg()[0]:.1f} at start")


def load_at_end() -> str:
    """The load at the end, for a benchmark's last line."""
    return f"load average {os.getloadavg()[0]:.1f} at the end (other processes on this machine distort the numbers)"


def output_file(suffix: str | None = None) -> Callable[[str], Path]:
    """An argparse type: a file a benchmark writes (or replaces) at its end, checked now so that a long run is not
    lost to it: in a folder that exists, not a folder itself, and ending in `suffix` where one is given (matplotlib
    adds its own to a name without one)."""
    def parse(text: str) -> Path:
        path = given_folder(text)
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{path} is a folder: give a file name")
        problem = folder_problem(path)
        if problem:
            raise argparse.ArgumentTypeError(f"{path}: {problem}")
        if suffix and path.suffix.lower() != suffix:
            raise argparse.ArgumentTypeError(f"{path}: give a name ending in {suffix}")
        return path
    return parse


def output_folder(text: str) -> Path:
    """An argparse type: a folder a benchmark writes into, made when it first writes there; checked now so that a
    long run is not lost to it (not a file, nor under one)."""
    path = given_folder(text)
    blocked = nearest_existing(path.absolute())
    if not blocked.is_dir():
        raise argparse.ArgumentTypeError(f"{path}: {blocked} is a file, not a folder; give a folder")
    return path


def comma_list(parse_item: Callable[[str], object], what: str):
    """An argparse type: a comma-separated list, each item read by `parse_item` (ValueError when it is not one
    of `what`)."""
    def parse(text: str) -> list:
        try:
            return [parse_item(item) for item in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {what}") from None
    return parse
