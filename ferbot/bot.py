"""The one place the live bot is assembled: source, analyzer, renderer, sink and log from a BotOptions.

The command line, the benchmarks and the tests all build the bot here, so the output size, frame rate and
excluded regions are given once and every part that needs them gets the same values (the renderer's marker
layout is the one the analyzer looks for on screen, which keeps the feedback-loop guard working).
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import cv2
from threadpoolctl import threadpool_limits

from ferbot.analysis import FrameAnalyzer
from ferbot.capture import Source, open_source, open_window
from ferbot.classify import EmotionClassifier
from ferbot.classify.checkpoint import CheckpointError
from ferbot.classify.devices import use_cpu_cores
from ferbot.exclusions import Exclusions
from ferbot.facelog import FaceLog, LogError
from ferbot.files import check_new_file
from ferbot.geometry import Rect
from ferbot.names import NameReader
from ferbot.pipeline import DEFAULT_ANALYSIS_RATE, RUN_ERRORS, Pipeline, RunStats
from ferbot.render import Renderer
from ferbot.sink import Sink, open_sink, parse_sink
from ferbot.sink.file import new_video_type
from ferbot.track import FaceTracker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotOptions:
    """What a run of the bot is asked to do; the command line's options, with its defaults."""

    source: str = "screen"  # a name in ferbot.capture.SOURCES, or an image or video file
    monitor: int | None = None
    region: Rect | None = None
    window: str | None = None  # --window TITLE: capture that window instead of `source`
    exclude: tuple[Rect, ...] = ()
    sink: str = "vcam"  # a --sink value (ferbot.sink.SINKS)
    fps: float = 30.0
    size: tuple[int, int] = (1280, 720)  # output (width, height)
    log: str | None = None  # --log CSV path
    checkpoint: str | None = None  # a checkpoint folder; None: the shipped `model`
    model: str = "webcam"  # a key of ferbot.classify.checkpoint.MODELS: the one that reads calm students as calm
    smoothing: float = 1.0  # seconds
    analysis_rate: float | None = DEFAULT_ANALYSIS_RATE  # analyses per second at most; None: as fast as possible
    names: bool = False  # --names: read the tiles' name tags


class Bot:
    """An assembled bot: run it, then close it (or use it as a context manager)."""

    def __init__(self, options: BotOptions, source: Source, analyzer: FrameAnalyzer, renderer: Renderer,
                 sink: Sink, facelog: FaceLog | None, closing: ExitStack):
        self.analyzer, self.renderer = analyzer, renderer
        self.pipeline = Pipeline(source, analyzer, renderer, sink, options.fps, facelog, options.analysis_rate)
        self._closing = closing

    def run(self, duration: float | None = None, stops_before: int | None = None) -> RunStats:
        """Run until Ctrl-C, the end of the source, a closed window, a lost source or sink, or `duration` s
        (Pipeline.run)."""
        return self.pipeline.run(duration, stops_before)

    def close(self) -> None:
        """Release the sink, the source, the detector and the log, in the reverse order of opening."""
        self._closing.close()

    def __enter__(self) -> Bot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# What build_bot and a bot's run raise for an input or output that cannot be used, each with a message that says
# what to do: a command line reports them in one line.
BOT_ERRORS = (*RUN_ERRORS, CheckpointError)
# The live bot's classifier runs on at most this many cores, however many the computer has: a class's faces are a
# small batch and every device takes one face or more per call, so a 16-thread laptop's 16 devices took 8 times the
# CPU of two for the same analysis, and the meeting app needs those cores
BOT_CPU_DEVICES = 2
# OpenCV's own thread pool for the feed's colour conversions and resizing: one thread, whose frame takes about a
# millisecond longer, where a pool of one thread per core spent 7 times the CPU with idle workers spinning
OPENCV_THREADS = 1
# numpy's BLAS (OpenBLAS in numpy's wheels) likewise: the tracker's one product of 49 faces' thumbnails woke a second
# thread that spun for about 100 ms of CPU in every analysis of a 7x7 gallery, for no speed
BLAS_THREADS = 1


def use_bot_cpu() -> None:
    """The live bot's share of the CPU: its classifier on at most BOT_CPU_DEVICES single-threaded XLA devices
    (use_cpu_cores), OpenCV on OPENCV_THREADS, numpy's BLAS on BLAS_THREADS. Call it before anything uses JAX."""
    use_cpu_cores(most=BOT_CPU_DEVICES)
    cv2.setNumThreads(OPENCV_THREADS)
    threadpool_limits(BLAS_THREADS, user_api="blas")


def build_bot(options: BotOptions, *, source: Source | None = None,
              classifier: EmotionClassifier | None = None) -> Bot:
    """Open everything `options` names; on a failure, what was already opened is closed again.

    `source` replaces the one options.source names (a benchmark's synthetic screen); `classifier` an already
    loaded and warmed-up one (several bots in one process). Raises one of BOT_ERRORS.
    """
    check_outputs_are_new(options)
    with ExitStack() as stack:
        names = NameReader() if options.names else None  # first: a missing OCR engine opens nothing
        if source is None:
            source = (open_window(options.window) if options.window
                      else open_source(options.source, monitor=options.monitor, region=options.region))
        stack.callback(source.close)
        warm = classifier is not None
        classifier = classifier or EmotionClassifier.load(options.checkpoint, options.model)
        excluded = Exclusions(options.exclude)
        renderer = Renderer(options.size, excluded=excluded)
        analyzer = stack.enter_context(FrameAnalyzer(classifier, renderer.layout.markers,
                                                     tracker=FaceTracker(smoothing_s=options.smoothing),
                                                     excluded=excluded, names=names))
        # The files last, so that a run that cannot start leaves no empty video or log behind to block the next
        # try: the log first (it can be discarded while it holds only its header), then the sink.
        # a recording's rows are not dated: its analysis happens after the lesson, and time_s places them in it
        facelog = FaceLog(options.log, dated=not source.recorded) if options.log else None
        if facelog is not None:
            stack.callback(facelog.close)
        try:
            sink = open_sink(options.sink, options.size, options.fps)
        except BaseException:
            if facelog is not None:
                facelog.discard()
            raise
        stack.callback(sink.close)
        # Batch sizes compile while the feed starts; only once everything is open (a start that fails, such as a
        # missing virtual camera, says so at once instead of waiting for the compiling), and after the detector
        # is made (MediaPipe silences the process's stderr while it starts).
        if not warm:
            stack.callback(classifier.warmup_in_background().close)
        return Bot(options, source, analyzer, renderer, sink, facelog, stack.pop_all())


def check_outputs_are_new(options: BotOptions) -> None:
    """Raise LogError or SinkError, before anything opens, if the log or the video file already exists (ferbot never
    overwrites a file: it may be an earlier class's log, or the video being analysed), a folder for either does not,
    the video's name is of no known type, or both name one file."""
    _, video = parse_sink(options.sink)
    if options.log:
        check_new_file(f"--log {options.log}", options.log, LogError, str(Path(options.log) / "class.csv"))
    if video:
        new_video_type(video)  # a known type, new, in a folder that exists
    if options.log and video and Path(options.log).resolve() == Path(video).resolve():
        raise LogError(f"--log {options.log} and --sink file:{video} name one file: give each its own")
