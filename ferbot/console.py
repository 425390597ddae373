"""What ferbot's command lines share: the exit statuses, the logging set-up and the one-line error.

`ferbot` (the bot and `ferbot report`), `python -m train` and the benchmarks all log the same way and end with
the same statuses for the same kinds of outcome.
"""

from __future__ import annotations

import argparse
import logging
import sys

EXIT_OK = 0  # done, or stopped on purpose (Ctrl-C, --duration, the end of the source)
EXIT_ERROR = 1  # an input or output cannot be used (data, checkpoint, source, sink, log), or was lost mid-run
EXIT_USAGE = 2  # invalid options
EXIT_INTERRUPTED = 130  # a job stopped before it finished, its state saved (a training run: same command resumes)

# Libraries whose INFO messages are not for users.
_QUIET_LOGGERS = ("absl", "jax", "jax._src", "orbax")


def setup_logging(verbose: bool = False) -> None:
    """Timestamped log lines on stderr: INFO (DEBUG when verbose) for our code, WARNING for noisy libraries."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def fail(prog: str, message: str, status: int = EXIT_ERROR) -> int:
    """Print `prog: error: message` as one line on stderr and return `status`."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status


def already_there(what: str) -> str:
    """The one-line refusal for an output file that exists (`what`: the option and its path): a run of the bot never
    overwrites a file."""
    return (f"{what}: the file exists, and a run never overwrites a file (it may be an earlier class's); give a new "
            "name or move it away")


def whole_number(minimum: int):
    """An argparse type: a whole number of at least `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} must be a whole number of at least {minimum}")
        return value
    return parse


class OneLineParser(argparse.ArgumentParser):
    """An argument parser that reports a usage mistake in one line (exit status 2), not the whole usage text."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")
