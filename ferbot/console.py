"""What ferbot's command lines share: the exit statuses, the logging set-up and the one-line error.

`ferbot` (the bot and `ferbot report`), `python -m train` and the benchmarks all log the same way and end with
the same statuses for the same kinds of outcome.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import shlex
import signal
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

EXIT_OK = 0  # done, or stopped on purpose (Ctrl-C, --duration, the end of the source)
EXIT_ERROR = 1  # an input or output cannot be used (data, checkpoint, source, sink, log), or was lost mid-run
EXIT_USAGE = 2  # invalid options
EXIT_INTERRUPTED = 130  # a job stopped before it finished, its state saved (a training run: same command resumes)
# The feed's --size, smallest and largest: below 640x360 the labels of a 3x3 gallery cover each other and the faces,
# and the mood panel's text is under 5 px high.
OUTPUT_SIZES = ((640, 360), (3840, 2160))
# The feed's width over its height, narrowest and widest: a webcam picture, from square to 21:9 (a taller one puts
# the right marker over the disclosure).
OUTPUT_ASPECTS = (1.0, 2.4)

# Signals that stop the bot as Ctrl-C does (the video finalised, the report written), where the system has them:
# kill, a closed terminal (SIGHUP), Ctrl-Break on Windows (SIGBREAK; a console window closed ends the process at once).
STOP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGBREAK")

# Libraries whose INFO messages are not for users.
_QUIET_LOGGERS = ("absl", "jax", "jax._src", "orbax")


def setup_logging(verbose: bool = False) -> None:
    """Timestamped log lines on stderr: INFO, WARNING for noisy libraries; DEBUG for ferbot's own when verbose."""
    logging.basicConfig(level=logging.INFO, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("ferbot").setLevel(logging.DEBUG if verbose else logging.NOTSET)


def fail(prog: str, message: str, status: int = EXIT_ERROR) -> int:
    """Print `prog: error: message` as one line on stderr and return `status`."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return status


def first_line(err: BaseException) -> str:
    """The first line of an error's message (the libraries' messages can run over many), or its type's name."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


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


def number(minimum: float, *, strict: bool, maximum: float = math.inf) -> Callable[[str], float]:
    """An argparse type: a finite number above `minimum` (strict) or at least `minimum`, and at most `maximum`."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum) or value > maximum:
            bound = "greater than" if strict else "at least"
            most = f" and at most {maximum:g}" if maximum < math.inf else ""
            raise argparse.ArgumentTypeError(f"{text!r} must be a finite number {bound} {minimum:g}{most}")
        return value
    return parse


def command_word(text: str) -> str:
    """`text` as one word of a command the user can paste into their shell: quoted where it holds a space or a
    character the shell reads (on Windows in double quotes, which the command prompt and PowerShell both take, and
    which a Windows path cannot hold)."""
    if os.name != "nt":
        return shlex.quote(text)
    return text if re.fullmatch(r"[\w\-.:\\/]+", text) else f'"{text}"'


def given_path(text: str) -> str:
    """An argparse type: a path that is not empty (an empty one is often a variable left unset) and is text (OpenCV
    crashes on a name with bytes that are not UTF-8), a leading ~ read as the home folder (the shell leaves it as it
    is in --out=~/x, and a folder named ~ would be made)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty (a variable left unset?)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise argparse.ArgumentTypeError(f"{shown}: the name has bytes that are not UTF-8 text; rename the file or "
                                         "folder with characters your system shows") from None
    return os.path.expanduser(text)


def given_folder(text: str) -> Path:
    """An argparse type: given_path, as a Path."""
    return Path(given_path(text))


def frame_size(smallest: tuple[int, int] = (1, 1),
               largest: tuple[int, int] | None = None) -> Callable[[str], tuple[int, int]]:
    """An argparse type: WxH in whole pixels (e.g. 1280x720), from `smallest` up to `largest` (None: no limit)."""
    def parse(text: str) -> tuple[int, int]:
        try:
            width, height = (int(v) for v in text.lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not WxH (e.g. 1280x720)") from None
        if width < smallest[0] or height < smallest[1] or (largest and (width > largest[0] or height > largest[1])):
            bound = (f"between {smallest[0]}x{smallest[1]} and {largest[0]}x{largest[1]}" if largest
                     else f"of at least {smallest[0]}x{smallest[1]}")
            raise argparse.ArgumentTypeError(f"{text!r}: choose a size {bound}")
        return width, height
    return parse


def output_size(text: str) -> tuple[int, int]:
    """An argparse type: the feed's WxH, within OUTPUT_SIZES and OUTPUT_ASPECTS, and even (pyvirtualcam's
    drivers and video encoders store colour at half the width and height)."""
    width, height = frame_size(*OUTPUT_SIZES)(text)
    if not OUTPUT_ASPECTS[0] <= width / height <= OUTPUT_ASPECTS[1]:
        raise argparse.ArgumentTypeError(f"{text!r}: the feed is a webcam picture, from square to 21:9 wide; give "
                                         "a width 1 to 2.4 times the height (e.g. 1280x720)")
    if width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"{text!r}: give an even width and height (e.g. 1280x720)")
    return width, height


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, wrapped at spaces only: names such as LOG-students.csv or fer-vgg-w320-e100 are
    never cut at a hyphen across two lines."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return textwrap.fill(" ".join(text.split()), width, initial_indent=indent, subsequent_indent=indent,
                             break_on_hyphens=False)


class RawDescriptionHelpFormatter(argparse.RawDescriptionHelpFormatter, HelpFormatter):
    """The description and epilog as written (examples keep their lines); options' help as HelpFormatter's."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser that reports a usage mistake in one line (exit status 2), not the whole usage text, and
    lays out its help with HelpFormatter unless given another."""

    def __init__(self, *args, formatter_class: type[argparse.HelpFormatter] = HelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def stop_signals() -> list[signal.Signals]:
    """Those of STOP_SIGNALS this system has and this process does not ignore (`nohup ferbot` keeps running when its
    terminal closes)."""
    found = (getattr(signal, name, None) for name in STOP_SIGNALS)
    return [signum for signum in found if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN]


_stops_taken: list[str] = []  # the name of every stop signal count_stop_signals' or stop_on_signals' handler took


def count_stop_signals() -> None:
    """While ferbot loads its libraries: Ctrl-C (unless ignored: a background start) and each of stop_signals()
    are counted by stops_taken(), and raise nothing (raised inside a library's import, a KeyboardInterrupt printed
    a traceback, or was dropped by one of its callbacks; `kill` ended the process by the signal)."""
    for signum in _signals_to_take():
        signal.signal(signum, _count)


def stop_on_signals() -> None:
    """Make Ctrl-C (unless ignored) and each of stop_signals() raise KeyboardInterrupt, named after the signal
    ("Ctrl-C" for SIGINT), and counted by stops_taken()."""
    for signum in _signals_to_take():
        signal.signal(signum, _stop)
    if not isinstance(sys.unraisablehook, _QuietAboutLostStops):
        sys.unraisablehook = _QuietAboutLostStops(sys.unraisablehook)


def _signals_to_take() -> list[signal.Signals]:
    ctrl_c = [signal.SIGINT] if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN else []
    return [*ctrl_c, *stop_signals()]


def _count(signum, frame) -> None:
    _stops_taken.append("Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name)


def _stop(signum, frame) -> None:
    _count(signum, frame)
    raise _StopTaken(_stops_taken[-1])


class _StopTaken(KeyboardInterrupt):
    """The KeyboardInterrupt of a stop signal that stops_taken() counts."""


class _QuietAboutLostStops:
    """sys.unraisablehook: a _StopTaken lost inside a callback is raised again by stop_if_taken_since, and printing
    it ("Exception ignored in ... KeyboardInterrupt", a traceback) would only alarm; anything else goes to the hook
    it replaced."""

    def __init__(self, replaced: Callable[[object], object]):
        self.replaced = replaced

    def __call__(self, unraisable) -> None:
        if not isinstance(unraisable.exc_value, _StopTaken):
            self.replaced(unraisable)


def stops_taken() -> int:
    """How many stop signals count_stop_signals' or stop_on_signals' handler has taken so far."""
    return len(_stops_taken)


def stop_if_taken_since(count: int = 0) -> None:
    """Raise KeyboardInterrupt for a stop signal taken since stops_taken() was `count` (0: since ferbot began): one
    counted while ferbot loaded (count_stop_signals), or one whose KeyboardInterrupt was lost where the signal
    landed (Python prints and drops an exception raised inside a callback it runs on its own: a finalizer, a garbage
    collection's callback, which JAX registers), so that the work went on as if no signal had come."""
    if len(_stops_taken) > count:
        raise _StopTaken(_stops_taken[-1])


def ignore_stop_signals() -> None:
    """Ctrl-C and the signals stop_on_signals took change nothing from now on. For where a run's files are written,
    or the report's two files are whole and about to replace the old ones: raised while they replace them, a Ctrl-C
    could leave the new students file beside the old page; later, in Python's teardown, it printed a traceback or
    ended the command by the signal (status -2), as if the run or the report had failed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for signum in stop_signals():
        if signal.getsignal(signum) in (_stop, _count):
            signal.signal(signum, signal.SIG_IGN)
