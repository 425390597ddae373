"""`python -m ferbot` / `ferbot`: the live bot's command line; `ferbot report LOG.csv`: the after-class report."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ferbot.bot import BOT_ERRORS, BotOptions, build_bot, check_outputs_are_new, use_bot_cpu
from ferbot.capture import SOURCE_CHOICES, SOURCES, takes_screen_options
from ferbot.classify.checkpoint import MODELS, CheckpointError, checkpoint_folder, read_card
from ferbot.classify.devices import use_compilation_cache
from ferbot.console import (
    EXIT_OK,
    OUTPUT_SIZES,
    OneLineParser,
    RawDescriptionHelpFormatter,
    command_word,
    fail,
    given_path,
    ignore_stop_signals,
    number,
    output_size,
    setup_logging,
    stop_if_taken_since,
    stop_on_signals,
    stops_taken,
    whole_number,
)
from ferbot.facelog import LogError
from ferbot.geometry import Rect
from ferbot.pipeline import DEFAULT_ANALYSIS_RATE
from ferbot.report import report_paths, write_report
from ferbot.sink import SINK_CHOICES, SINKS, parse_sink, sink_option

log = logging.getLogger("ferbot")

RECTANGLE_OPTIONS = ("--region", "--exclude")  # X,Y,W,H values, X or Y may be negative

DESCRIPTION = """\
FER Cam: reads the room in a video meeting. ferbot captures your meeting screen, finds every face, recognises
each face's emotion (FER2013's seven classes) and publishes an annotated feed, with a class-mood panel, as the
virtual camera "FER Cam". Pick "FER Cam" as your camera in Zoom, Meet or Teams.

Emotion recognition in education is restricted by law in some places (e.g. banned in the EU since
February 2025): read "Responsible use" in the README first. The feed always shows that analysis is on.
"""

EPILOG = """\
examples:
  ferbot                                   the primary monitor -> the "FER Cam" virtual camera
  ferbot --demo --sink window              try it without a meeting: a built-in gallery in a preview window
  ferbot --monitor 2 --sink window         a second monitor, shown in a window
  ferbot --window Zoom                     only the Zoom window, wherever it is moved
  ferbot --region 0,0,1280,720 --log class.csv
  ferbot --source lecture.mp4 --sink file:annotated.mkv --duration 60
  ferbot --exclude 0,0,640,360             never analyse the top-left 640x360 pixels of the screen
  ferbot --names --log class.csv           name the students from their tiles' name tags (personal data)

after-class report (class-report.html and class-students.csv for class.csv; written next to the log after a run
with --log):
  ferbot report class.csv [--out DIR]      see ferbot report --help

exit status: 0 when stopped by Ctrl-C, --duration, the end of the source or closing the preview window;
1 when a source, sink, checkpoint or log cannot be used, or the screen or virtual camera is lost while running
(the log is still flushed and the report written); 2 for invalid options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The `ferbot` command line: what to analyse, the model, where the feed goes, what is kept."""
    parser = OneLineParser(prog="ferbot", description=DESCRIPTION, epilog=EPILOG,
                           formatter_class=RawDescriptionHelpFormatter)
    what = parser.add_argument_group("what to analyse (default: the primary monitor)")
    what.add_argument("--source", type=given_path, metavar=SOURCE_CHOICES,
                      help="; ".join(f"{kind.name}: {kind.description}" for kind in SOURCES.values())
                      + "; or a video file or animated GIF (played in real time), or an image (default: screen)")
    what.add_argument("--monitor", type=whole_number(0), metavar="N",
                      help="monitor to capture: 1, 2, ... (default: the primary one); 0 = all monitors together")
    what.add_argument("--region", type=_region, metavar="X,Y,W,H",
                      help="capture only this rectangle of the screen, in screen pixels (on Windows and macOS, X or "
                           "Y is negative on a monitor left of or above the primary one)")
    what.add_argument("--window", metavar="TITLE",
                      help="capture the window whose title contains TITLE (e.g. Zoom), following it when it moves "
                           "or resizes; boxes are in its pixels")
    what.add_argument("--demo", action="store_true",
                      help="the same as --source demo: try ferbot without a meeting")
    what.add_argument("--exclude", type=_region, action="append", default=[], metavar="X,Y,W,H",
                      help="never analyse this rectangle of the captured frame, in its pixels (e.g. your own tile "
                           "or a student who opted out); repeat for more")
    out = parser.add_argument_group("output")
    out.add_argument("--sink", default=BotOptions.sink, type=sink_option, metavar=SINK_CHOICES,
                     help="; ".join(f"{kind.spec}: {kind.description}" for kind in SINKS.values())
                     + f" (default: {BotOptions.sink})")
    out.add_argument("--fps", type=number(1, strict=False, maximum=60), default=BotOptions.fps,
                     help=f"output frames per second, 1 to 60 (default {BotOptions.fps:g})")
    out.add_argument("--size", type=output_size, default=BotOptions.size, metavar="WxH",
                     help="output frame size, {0[0]}x{0[1]} to {1[0]}x{1[1]}, from square to 21:9 wide, even "
                          "numbers (default {2[0]}x{2[1]})".format(*OUTPUT_SIZES, BotOptions.size))
    out.add_argument("--log", type=given_path, metavar="PATH",
                     help="write a CSV: one row per face per analysed frame (ids, boxes, probabilities; no images), "
                          "and at the end the after-class report next to it")
    out.add_argument("--no-report", action="store_true", help="with --log: do not write the report at the end")
    out.add_argument("--names", action="store_true",
                     help="read each tile's name tag (OCR, on this computer): students keep their identity when "
                          "tiles move, and the log and report name them and count cameras off. Off by default: "
                          "names next to emotion estimates are personal data; keep such logs safe")
    run = parser.add_argument_group("running")
    classifier = run.add_mutually_exclusive_group()
    classifier.add_argument("--model", choices=tuple(MODELS),
                            help="the shipped emotion classifier: webcam (the default), trained for webcam faces: it "
                                 "reads calm students as in a difficult state a fifth as often as default does; "
                                 "default, the most accurate on FER2013's own labels; lite, about 4x fewer "
                                 "operations per face, for slow laptops or large galleries")
    classifier.add_argument("--checkpoint", type=given_path, metavar="PATH",
                            help="an emotion classifier checkpoint folder instead (e.g. one you trained with "
                                 "python -m train); $FERBOT_CHECKPOINT sets it when neither this nor --model is given")
    run.add_argument("--duration", type=number(0, strict=True), metavar="SECONDS",
                     help="stop after this many seconds (default: run until Ctrl-C)")
    run.add_argument("--smoothing", type=number(0, strict=False), default=BotOptions.smoothing, metavar="SECONDS",
                     help="time constant for smoothing each face's probabilities (default "
                          f"{BotOptions.smoothing:.1f}; 0 = none)")
    run.add_argument("--analysis-rate", type=_rate, default=DEFAULT_ANALYSIS_RATE, metavar="HZ|max",
                     help=f"analyse the screen at most this many times a second (default {DEFAULT_ANALYSIS_RATE:g}: "
                          "labels update 2.5 times a second with a 5x5 gallery at under a core, 1.7 times with 7x7 at "
                          "about 1.2 cores, on a 2-core laptop; an unchanged screen is analysed once a second); "
                          "'max' = as often as the CPU allows")
    run.add_argument("-v", "--verbose", action="store_true", help="log every analysed frame's timings")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the bot, or `report` a log; returns the exit status. The process's entry point: once the work is
    written, Ctrl-C stays ignored for the rest of the process (console.ignore_stop_signals)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["report"]:
        return _report_command(argv[1:])
    parser = build_parser()
    if argv[:1] and argv[0].lower().endswith(".csv"):  # `ferbot class.csv`: the report meant
        parser.error(f"to write the report of a log, run: ferbot report {command_word(argv[0])}")
    args = parser.parse_args(_joined_negative_rectangles(argv))
    source = _checked_source(parser, args)
    setup_logging(args.verbose)
    stop_on_signals()
    try:
        stop_if_taken_since()  # a stop counted while ferbot loaded
        use_bot_cpu()
        use_compilation_cache()
        options = BotOptions(source=source, monitor=args.monitor, region=args.region, window=args.window,
                             exclude=tuple(args.exclude), sink=args.sink, fps=args.fps, size=args.size,
                             log=args.log, checkpoint=_checkpoint(args), model=args.model or BotOptions.model,
                             names=args.names, smoothing=args.smoothing, analysis_rate=args.analysis_rate)
        return _run(options, args.duration, report=bool(args.log) and not args.no_report)
    except BOT_ERRORS as err:
        return _fail(str(err))
    except OSError as err:  # a path the system refuses (a name too long, a folder that cannot be read)
        return _fail(f"{err.filename}: {err.strerror or err}; check the paths given" if err.filename else str(err))
    except KeyboardInterrupt:
        log.info("stopped")
        return EXIT_OK
    finally:
        ignore_stop_signals()  # a second Ctrl-C in Python's teardown (seconds, with JAX loaded) ended it by the signal
        logging.shutdown()


def _checked_source(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The source to analyse ('demo', 'screen' or --source); a usage error for options that do not go together."""
    if args.demo and args.source is not None:
        parser.error("--demo and --source exclude each other: pick one")
    source = "demo" if args.demo else args.source or "screen"
    if (args.region or args.monitor is not None) and not takes_screen_options(source):
        given = "--region" if args.region else "--monitor"
        parser.error(f"{given} only applies to the screen source (the default, or --source screen)")
    if args.region and args.monitor is not None:
        parser.error("--region is in the whole screen's pixels, across monitors: give --region or --monitor, not both")
    if args.window is not None and (source != "screen" or args.region or args.monitor is not None):
        parser.error("--window captures one window: leave out --source, --demo, --monitor and --region")
    if args.window is not None and not args.window.strip():
        parser.error("--window needs part of a window's title, e.g. --window Zoom")
    if args.no_report and not args.log:
        parser.error("--no-report only applies with --log")
    return source


def _joined_negative_rectangles(argv: list[str]) -> list[str]:
    """`--region -1920,0,1920,1080` as `--region=-1920,0,1920,1080`: argparse takes a value that starts with '-' and
    is not a plain number for an option of its own."""
    joined, index = [], 0
    while index < len(argv):
        option, value = argv[index], argv[index + 1] if index + 1 < len(argv) else ""
        if option in RECTANGLE_OPTIONS and value[:1] == "-" and value[1:2].isdigit():
            joined.append(f"{option}={value}")
            index += 2
        else:
            joined.append(option)
            index += 1
    return joined


def _checkpoint(args: argparse.Namespace) -> str | None:
    """The checkpoint folder asked for: --checkpoint, else $FERBOT_CHECKPOINT unless --model names a shipped one;
    CheckpointError for a variable that names no folder."""
    if args.checkpoint or args.model:
        return args.checkpoint
    variable = os.environ.get("FERBOT_CHECKPOINT") or None
    if variable is not None:
        try:
            read_card(checkpoint_folder(variable))  # resolved as --checkpoint and EmotionClassifier.load do
        except CheckpointError:
            raise CheckpointError(f"$FERBOT_CHECKPOINT={variable} is not a checkpoint folder: set it to one that "
                                  "`python -m train` exported, or unset it to use the shipped classifier") from None
    return variable


def _run(options: BotOptions, duration: float | None, report: bool) -> int:
    """Run the bot, then write the report if `report`. A stop signal lost inside a garbage collection (console.
    stop_if_taken_since) stops it as soon as the bot is built, its feed's next tick, or once the bot has closed."""
    check_outputs_are_new(options)  # first: an old log in the way says so, before its old report does
    if report:
        _check_report_files_are_new(options.log)
    ran = False
    try:
        with build_bot(options) as bot:
            stop_if_taken_since()
            log.info("running%s; Ctrl-C to stop", f" for {duration:g} s" if duration else "")
            ran = True
            stats = bot.run(duration, stops_before=0)
            stopped = stops_taken()  # the stops that ended the feed, or came while it finished, are taken
            log.info("sent %d frames (%.1f fps), analysed %d (%.1f per s, %.0f ms each)", stats.frames_sent,
                     stats.output_fps, stats.frames_analysed, stats.analysis_rate, 1000 * stats.analysis_s)
        stop_if_taken_since(stopped)
        if report:
            _report_after_run(options.log, stopped)
        ignore_stop_signals()  # everything is written
    except (*BOT_ERRORS, OSError):  # one line of their own (main), the report not wanted after a broken log
        raise
    except (KeyboardInterrupt, Exception) as err:  # one more Ctrl-C while stopping, or a fault of ferbot's own:
        # the log is kept, its report is one command away
        if report and ran:
            why = "stopped" if isinstance(err, KeyboardInterrupt) else "failed (the error follows)"
            log.warning("%s before the report was written; write it with: ferbot report %s", why,
                        command_word(options.log))
        raise
    return _fail(stats.error + _kept(options)) if stats.error else EXIT_OK


def _kept(options: BotOptions) -> str:
    """For a run stopped by a lost screen or camera: the files it wrote are kept, and the next run needs new names
    (ferbot never overwrites a file); a video without a frame was not kept, and is not named."""
    _, video = parse_sink(options.sink)
    written = [given for given, path in ((f"--log {options.log}", options.log), (f"--sink file:{video}", video))
               if path and Path(path).exists()]
    return f" (this run's files are kept, {', '.join(written)}: give the next run new names)" if written else ""


def _check_report_files_are_new(log_path: str) -> None:
    """LogError if the report a run would write next to its log is already there (from a log since moved away)."""
    for path in report_paths(log_path):
        if path.exists():
            raise LogError(f"{path}, the report --log {log_path} would get, exists and a run does not overwrite it: "
                           "give the log a new name, move the old report away, or add --no-report")


def _report_after_run(log_path: str, stops_before: int) -> None:
    """The after-class report next to the run's log; a log it cannot summarise (no faces) only warns. A stop signal
    taken since stops_taken() was `stops_before` stops it before it replaces a file."""
    log.info("writing the report of %s ...", log_path)  # a long lesson's takes seconds
    try:
        log.info("report: %s", write_report(log_path, before_replacing=_replacing_unless_stopped(stops_before)))
    except LogError as err:
        log.warning("no report written: %s", err)
    except OSError as err:  # the log's folder no longer takes files (a drive gone read-only, its rights changed)
        log.warning("no report written: cannot write it in %s (%s); write it elsewhere with: ferbot report %s --out "
                    "FOLDER", Path(log_path).parent, err.strerror or err, command_word(log_path))


_REPORT_SUFFIXES = (".html", ".htm", ".csv")  # an --out that names one of the report's files, not its folder


def _report_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ferbot report", description=(
        "The after-class report of a session: from LOG.csv, the CSV that `ferbot --log PATH` wrote, writes "
        "LOG-report.html (class mood over time, moments to revisit, per-student summaries, coverage; "
        "self-contained, for any browser) and LOG-students.csv. Asked again for the same log (also once it has "
        "grown: a report made during the lesson), it replaces them; "
        "it never replaces files that are not that log's report."))
    parser.add_argument("log", type=given_path, metavar="LOG.csv", help="the session log written by ferbot --log")
    parser.add_argument("--out", type=given_path, metavar="DIR", help="folder for the two files (default: the log's)")
    return parser


def _report_command(argv: list[str]) -> int:
    """`ferbot report LOG.csv [--out DIR]`: write the report and print its path."""
    args = _report_parser().parse_args(argv)
    setup_logging()
    stop_on_signals()
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        return _fail(f"--out {args.out} is a file; give a folder (it is created if missing)")
    if args.out and not Path(args.out).exists() and Path(args.out).suffix.lower() in _REPORT_SUFFIXES:
        return _fail(f"--out takes the folder the two files go in, and {args.out} reads as a file name; give a "
                     "folder, e.g. --out reports")
    try:
        stop_if_taken_since()  # a stop counted while ferbot loaded
        page = write_report(args.log, args.out, before_replacing=_replacing_unless_stopped(0))
    except KeyboardInterrupt:
        return _report_stopped()
    except LogError as err:
        return _fail(str(err))
    except OSError as err:
        folder = args.out or Path(args.log).parent
        other = "" if args.out else ", or give --out another folder"
        return _fail(f"cannot write the report in {folder} ({err.strerror or err}); check that it is writable{other}")
    try:
        print(page, flush=True)
    except OSError:  # stdout a pipe closed early (`| head`) or a full disk: the report is written all the same
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that Python's flush at exit is quiet
    return EXIT_OK


def _replacing_unless_stopped(stops_before: int) -> Callable[[], None]:
    """write_report's before_replacing: a stop signal taken since stops_taken() was `stops_before` stops the report
    there, though its KeyboardInterrupt was lost where it landed (inside a garbage collection's callback, the report
    was written and the command ignored the Ctrl-C: stop_if_taken_since); otherwise Ctrl-C changes nothing after."""
    def replacing() -> None:
        ignore_stop_signals()
        stop_if_taken_since(stops_before)
    return replacing


def _report_stopped() -> int:
    """`ferbot report` stopped by Ctrl-C: nothing written (its files are replaced only once both are whole)."""
    return fail("ferbot report", "stopped before the report was written; nothing was changed")


def _fail(message: str) -> int:
    return fail("ferbot", message)


def _region(text: str) -> Rect:
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not X,Y,W,H (four whole numbers, e.g. 0,0,1280,720)") from None
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: width and height must be positive")
    return Rect(x, y, w, h)


def _rate(text: str) -> float | None:
    """--analysis-rate: a number of analyses per second above 0, or 'max' (None: no limit)."""
    if text.strip().lower() == "max":
        return None
    try:
        return number(0, strict=True)(text)
    except argparse.ArgumentTypeError as err:
        raise argparse.ArgumentTypeError(f"{err}, or 'max'") from None
