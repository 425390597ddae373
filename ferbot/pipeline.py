"""The live loop: capture and render at the output frame rate while a worker thread analyses the newest frame.

Capture -> render -> sink runs on the calling thread at `fps`, drawing the latest analysis it has. The
analysis worker takes whatever frame is newest when it is due, at most `analysis_rate` times a second (None:
whenever it is free, as fast as the CPU allows), so it never holds up the feed and, rate-limited, leaves the
meeting app its share of the CPU. Ctrl-C, the end of the source, a closed preview window or `duration` end the
run; the worker is joined and the caller closes the sink and the log. A source, sink or log that fails mid-run
(the screen lost, the virtual camera gone, a full disk), the log even in the last analysis once the run is
stopping, also ends it: the stats say why, so the caller can still flush the log and write the report before
reporting the failure. When no face has been found for NO_FACE_S seconds, one console line and a notice on the
feed say what to check, until faces are found again. While a live source holds its picture for HELD_S seconds (a
--window minimised or hidden, a --monitor or --region gone from the screen, which the source logs: the feed then
shows its last picture and labels), a notice on the feed says the analysis is paused, until the picture moves again.
"""

from __future__ import annotations

import logging
import math
import sys
import threading
import time
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.analysis import Analysis, FrameAnalyzer
from ferbot.capture.base import Frame, Source, SourceError
from ferbot.console import stop_if_taken_since, stops_taken
from ferbot.facelog import FaceLog, LogError
from ferbot.names import OCRError
from ferbot.render import Renderer
from ferbot.render.compose import halved_down_to
from ferbot.sink import Sink, SinkError
from ferbot.sink.base import WAKE_UP_S

log = logging.getLogger(__name__)

# Analyses per second by default (--analysis-rate): on the 2-core development machine (nothing else running), a 7x7
# gallery then costs the whole bot 1.16 cores with labels updated 1.7 times a second at 30 fps, a 5x5 one 0.79 core
# at 2.5 (benchmarks/cpu_budget.py, README "Performance"), leaving the meeting app the rest.
DEFAULT_ANALYSIS_RATE = 2.5
REFRESH_S = 1.0  # an unchanged screen is analysed again after this long
# What fails mid-run for a reason outside ferbot, each with a message that says what to do: it ends the run, which
# still flushes the log and writes the report; anything else an analysis raises is a bug.
RUN_ERRORS = (SourceError, SinkError, LogError, OCRError)
# A screen is unchanged when no pixel of a small grey copy (LOOK_WIDTH to 2 x LOOK_WIDTH pixels wide, each
# averaging a block of the screen) moved by more than UNCHANGED_LEVEL grey levels: one student's changed face in a
# 7x7 gallery still moves several of its pixels well beyond that, while sensor noise averages away.
UNCHANGED_LEVEL = 4
LOOK_WIDTH = 120
NO_FACE_S = 20.0  # analysed frames without a face for this long: say what to check, on the console and the feed
HELD_S = 3.0  # a live source's frame index unchanged this long (a window hidden): say so on the feed
# The feed's notice then (a --window minimised, on another desktop, hidden or off the screen holds its picture, and a
# --monitor or --region gone from the screen)
HELD_NOTICE = ("Analysis paused: the meeting is out of sight.",
               "- the labels are from before; it goes on when it shows")


def no_face_help(seconds: float) -> tuple[str, tuple[str, ...]]:
    """What to check when no face has been found for `seconds`: one console line, and the feed's short notice."""
    checks = ["the meeting shows the gallery view", "ferbot captures the right monitor or window"]
    if sys.platform == "darwin":
        checks.append("the terminal may record the screen (Screen Recording permission)")
    line = (f"no face found for {seconds:.0f} s: check that {checks[0]}, that {checks[1]} "
            "(--monitor, --region, --window)" + (f", and that {checks[2]}" if len(checks) > 2 else ""))
    return line, (f"No face found for {seconds:.0f} s. Check that:", *(f"- {c}" for c in checks))


@dataclass
class RunStats:
    """What a run did: output frames sent, frames analysed, wall time, the mean compute time of one analysis (s;
    `analysis_s`), frames left unanalysed because the screen had not changed, and the source or sink failure that
    ended it, if one did."""

    frames_sent: int = 0
    frames_analysed: int = 0
    wall_s: float = 0.0
    analysis_s: float = 0.0
    frames_unchanged: int = 0  # frames not analysed because the screen had not changed
    error: str | None = None

    @property
    def output_fps(self) -> float:
        return self.frames_sent / self.wall_s if self.wall_s else 0.0

    @property
    def analysis_rate(self) -> float:
        return self.frames_analysed / self.wall_s if self.wall_s else 0.0


class AnalysisWorker(threading.Thread):
    """Analyses the newest submitted frame, at most `rate` times a second (None: as fast as the CPU allows);
    frames submitted meanwhile are skipped.

    With a rate, a frame that looks the same as the last analysed one (a still screen: no pixel of a small grey
    copy changed by more than UNCHANGED_LEVEL grey levels) is not analysed again until `refresh_s` has passed,
    so a paused screen costs about half of what a live one does (benchmarks/cpu_budget.py: the output at its frame
    rate goes on) while its faces are still looked at now and then. Without a rate every frame is analysed,
    unchanged or not.
    """

    def __init__(self, analyzer: FrameAnalyzer, facelog: FaceLog | None = None, rate: float | None = None,
                 refresh_s: float = REFRESH_S):
        super().__init__(name="ferbot-analysis", daemon=True)
        self.analyzer = analyzer
        self.facelog = facelog
        self.rate = rate
        self.refresh_s = refresh_s
        self.latest: Analysis | None = None
        self.error: BaseException | None = None
        self.analysed = 0
        self.unchanged = 0  # frames not analysed because they looked like the last analysed one
        self.faces_seen = 0  # visible faces summed over the analysed frames
        self.busy_s = 0.0
        self._pending: Frame | None = None
        self._last_index: int | None = None
        self._last_look: np.ndarray | None = None
        self._skipped: Frame | None = None  # the last frame taken and not analysed (unchanged), if none was since
        self._last_analysed_at = -math.inf
        self._wake = threading.Condition()
        self._stopping = self._finish = False
        self.done = threading.Event()  # set when run() has returned: nothing more is written to the log

    def submit(self, frame: Frame) -> None:
        """Offer a frame; a frame with the index last analysed (a repeated picture) is not analysed again."""
        with self._wake:
            self._pending = frame
            self._wake.notify()

    def stop(self, finish: bool = False) -> None:
        """Stop after the analysis under way; with `finish` (the source has ended), after analysing the last frame
        submitted too, so that a recording's end is in the log."""
        with self._wake:
            self._stopping, self._finish = True, self._finish or finish
            self._wake.notify()

    def run(self) -> None:
        """The thread: analyse the latest frame submitted, at most `rate` times a second, until stop()."""
        try:
            next_due = time.monotonic()
            while (frame := self._next_frame(next_due)) is not None:
                self._last_index = frame.index
                if self.rate is not None:
                    next_due = time.monotonic() + 1.0 / self.rate
                    if self._looks_unchanged(frame):
                        self.unchanged += 1
                        self._skipped = frame
                        continue
                self._last_analysed_at = time.monotonic()
                self._analyse(frame)
        except BaseException as err:  # reported by the main loop, which then stops
            self.error = err
        finally:
            self.done.set()

    def _next_frame(self, next_due: float) -> Frame | None:
        """Wait for `next_due` and a frame not analysed yet, and take it; None once stopped (when finishing, after
        the last frame submitted, or the last taken and skipped as unchanged)."""
        with self._wake:
            while not self._stopping and (wait := next_due - time.monotonic()) > 0:
                self._wake.wait(min(wait, WAKE_UP_S))  # in steps: a wait past threading.TIMEOUT_MAX fails
            while not self._stopping and not self._fresh_pending():
                self._wake.wait(WAKE_UP_S)  # polled: a Ctrl-C inside submit's notify can lose the wake-up
            frame = self._pending if self._fresh_pending() else None
            if self._stopping:
                frame = (frame or self._skipped) if self._finish else None
            self._pending = self._skipped = None
            return frame

    def _looks_unchanged(self, frame: Frame) -> bool:
        """Whether the frame looks like the one last analysed, under refresh_s ago (never while finishing: the last
        frame is analysed); if not, its look is the one the next frames are compared with."""
        look = _look(frame.image)
        if (not self._finish and self._last_look is not None and look.shape == self._last_look.shape
                and time.monotonic() - self._last_analysed_at < self.refresh_s
                and int(cv2.absdiff(look, self._last_look).max()) <= UNCHANGED_LEVEL):
            return True
        self._last_look = look
        return False

    def _fresh_pending(self) -> bool:
        """Whether a frame waits that is not the one last analysed (a repeated picture)."""
        return self._pending is not None and self._pending.index != self._last_index

    def _analyse(self, frame: Frame) -> None:
        analysis = self.analyzer.analyze(frame)
        if self.facelog is not None:
            self.facelog.write(analysis)
        self.latest = analysis
        log.debug("frame %d: %d faces in %s", frame.index, len(analysis.visible_faces),
                  ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in analysis.timings.items()))
        self.analysed += 1
        self.faces_seen += len(analysis.visible_faces)
        self.busy_s += analysis.timings["total"]


def _look(image: np.ndarray) -> np.ndarray:
    """A small grey version of a frame, to tell whether the screen has changed (~1 ms for 1920x1080)."""
    return cv2.cvtColor(halved_down_to(image, LOOK_WIDTH), cv2.COLOR_RGB2GRAY)


class Pipeline:
    """source -> (worker: analysis) -> renderer -> sink, at `fps` output frames per second."""

    def __init__(self, source: Source, analyzer: FrameAnalyzer, renderer: Renderer, sink: Sink, fps: float,
                 facelog: FaceLog | None = None, analysis_rate: float | None = None, no_face_s: float = NO_FACE_S):
        self.source = source
        self.no_face_s = no_face_s
        self.renderer = renderer
        self.sink = sink
        self.fps = fps
        self.worker = AnalysisWorker(analyzer, facelog, analysis_rate)
        self.stats = RunStats()
        self._no_face: tuple[str, ...] = ()  # the "no face found" notice while it is due (under a held one's)

    def run(self, duration: float | None = None, stops_before: int | None = None) -> RunStats:
        """Run until Ctrl-C, the end of the source, the viewer stops, a source or sink fails, or `duration`
        seconds have passed; also on a stop signal taken since console.stops_taken() was `stops_before` (default:
        as the run starts) whose KeyboardInterrupt was lost. `self.stats.frames_sent` counts up while it runs."""
        stats = self.stats = RunStats()
        if self.worker.ident is not None:  # run before: a thread starts once, so a fresh worker, same settings
            self.worker = AnalysisWorker(self.worker.analyzer, self.worker.facelog, self.worker.rate,
                                         self.worker.refresh_s)
        period = 1.0 / self.fps
        start = next_tick = time.monotonic()
        shown: Analysis | None = None
        last_face = start  # when a face was last found (or the run started)
        index, last_new = None, start  # the source's frame index, and when it last changed
        taken = stops_taken() if stops_before is None else stops_before
        self.worker.start()
        try:
            while duration is None or time.monotonic() - start < duration:
                stop_if_taken_since(taken)  # a Ctrl-C lost inside a garbage collection's callback
                frame = self.source.read()
                if frame is None:
                    log.info("the source has ended")
                    self.worker.stop(finish=True)
                    break
                if frame.index != index:
                    index, last_new = frame.index, time.monotonic()
                self.worker.submit(frame)
                if self.worker.error is not None:
                    break  # reported below, as an error of the last analysis is
                latest = self.worker.latest
                if latest is not None and latest is not shown:
                    self.renderer.update_mood(latest.timestamp, latest.faces)
                    shown = latest
                    if latest.visible_faces:
                        last_face = time.monotonic()
                self._update_notice(shown, last_face, last_new)
                if not self.sink.send(self.renderer.render(frame.image, shown.faces if shown else ())):
                    log.info("the preview window was closed")
                    break
                stats.frames_sent += 1
                if stats.frames_sent == 1:
                    log.info("first output frame sent")
                next_tick = _paced(next_tick + period, period)
        except KeyboardInterrupt as stop:  # Ctrl-C, or a signal console.stop_on_signals takes, by its name
            log.info("stopping (%s)", stop.args[0] if stop.args else "Ctrl-C")
        except (SourceError, SinkError) as err:  # the log so far stays, for the report
            stats.error = _failure(err)
        finally:
            self.worker.stop()
            wait_through_interrupts(self.worker.done)
            stats.wall_s = time.monotonic() - start
            self._count_analyses(stats)
        self._report_analysis_error(stats)
        return stats

    def _count_analyses(self, stats: RunStats) -> None:
        """The worker's counts into the run's stats, once it has stopped."""
        stats.frames_analysed = self.worker.analysed
        stats.frames_unchanged = self.worker.unchanged
        stats.analysis_s = self.worker.busy_s / max(self.worker.analysed, 1)

    def _update_notice(self, shown: Analysis | None, last_face: float, last_new: float) -> None:
        """The feed's notice. "No face found", by the analysis on the feed: due once the analyses have found no face
        for no_face_s since `last_face` (also where one analysis stays on the feed: a still image is analysed once),
        said once, and over as soon as one finds a face. "Analysis paused" over it while a live source has held its
        picture for HELD_S since `last_new`, down as soon as the picture moves."""
        now = time.monotonic()
        if not self.source.recorded and now - last_new >= HELD_S:  # no analysis meanwhile: nothing new to say
            self.renderer.notice = HELD_NOTICE
            return
        if shown is not None:
            if shown.visible_faces:
                if self._no_face:
                    log.info("faces found again")
                    self._no_face = ()
            elif not self._no_face and now - last_face >= self.no_face_s:
                line, self._no_face = no_face_help(self.no_face_s)
                log.warning(line)
        self.renderer.notice = self._no_face

    def _report_analysis_error(self, stats: RunStats) -> None:
        """An analysis that failed, while the loop ran or in the last analysis after it (the source's last frame,
        or the one under way at Ctrl-C or --duration's end): a log that cannot be written or a name reader that
        cannot read ends the run as a failed source or sink does; another exception is raised, a bug."""
        err = self.worker.error
        if err is None:
            return
        if not isinstance(err, RUN_ERRORS):
            raise err
        if stats.error is None:
            stats.error = _failure(err)
        else:
            log.warning("the analysis failed too: %s", err)


_PARTS = {SourceError: "source", SinkError: "output", LogError: "log", OCRError: "name reader"}


def _failure(err: Exception) -> str:
    """Say which part failed (stopping the run), one of RUN_ERRORS; its message, for RunStats.error."""
    part = next(name for kind, name in _PARTS.items() if isinstance(err, kind))
    log.info("stopping: the %s failed", part)
    return str(err)


def _paced(next_tick: float, period: float) -> float:
    """Sleep until `next_tick`, the next output frame's time, and return it; a feed that has fallen more than a
    `period` behind does not try to catch up with a burst: its next tick is now."""
    delay = next_tick - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    elif delay < -period:
        return time.monotonic()
    return next_tick


def wait_through_interrupts(done: threading.Event) -> None:
    """Wait until `done` is set, through one more Ctrl-C or SIGTERM: the log and the sink are closed after the
    analysis thread ends, so the analysis it is finishing is not cut short (its rows would be lost, and the report
    with them); a further one stops at once (an analysis that hangs). Thread.join will not do: interrupted, it may
    report a running thread as ended."""
    for interrupts in range(2):
        try:
            done.wait()
            return
        except KeyboardInterrupt:
            if interrupts:
                raise
            log.warning("finishing the current analysis before stopping; Ctrl-C again to stop at once")
