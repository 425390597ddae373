"""The live loop: capture and render at the output frame rate while a worker thread analyses the newest frame.

Capture -> render -> sink runs on the calling thread at `fps`, drawing the latest analysis it has. The
analysis worker takes whatever frame is newest when it is free, so analysis runs as fast as the CPU allows
and never holds up the feed. Ctrl-C, the end of the source, a closed preview window or `duration` end the
run; the worker is joined and the caller closes the sink and the log. A source or sink that fails mid-run
(the screen lost, the virtual camera gone) also ends it: the stats say why, so the caller can still flush
the log and write the report before reporting the failure.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ferbot.analysis import Analysis, FrameAnalyzer
from ferbot.capture.base import Frame, Source, SourceError
from ferbot.facelog import FaceLog
from ferbot.render import Renderer
from ferbot.sink import Sink, SinkError

log = logging.getLogger(__name__)


@dataclass
class RunStats:
    """What a run did: output frames sent, frames analysed, wall time, mean analysis latency (s), and the
    source or sink failure that ended it, if one did."""

    frames_sent: int = 0
    frames_analysed: int = 0
    wall_s: float = 0.0
    analysis_s: float = 0.0
    error: str | None = None

    @property
    def output_fps(self) -> float:
        return self.frames_sent / self.wall_s if self.wall_s else 0.0

    @property
    def analysis_rate(self) -> float:
        return self.frames_analysed / self.wall_s if self.wall_s else 0.0


class AnalysisWorker(threading.Thread):
    """Analyses the newest submitted frame, over and over; frames submitted meanwhile are skipped."""

    def __init__(self, analyzer: FrameAnalyzer, facelog: FaceLog | None = None):
        super().__init__(name="ferbot-analysis", daemon=True)
        self.analyzer = analyzer
        self.facelog = facelog
        self.latest: Analysis | None = None
        self.error: BaseException | None = None
        self.analysed = 0
        self.faces_seen = 0  # visible faces summed over the analysed frames
        self.busy_s = 0.0
        self._pending: Frame | None = None
        self._last_index: int | None = None
        self._wake = threading.Condition()
        self._stopping = False

    def submit(self, frame: Frame) -> None:
        """Offer a frame; a frame with the index last analysed (a repeated picture) is not analysed again."""
        with self._wake:
            self._pending = frame
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()

    def run(self) -> None:
        try:
            while True:
                with self._wake:
                    while not self._stopping and (self._pending is None or self._pending.index == self._last_index):
                        self._wake.wait()
                    if self._stopping:
                        return
                    frame, self._pending = self._pending, None
                self._last_index = frame.index
                analysis = self.analyzer.analyze(frame)
                if self.facelog is not None:
                    self.facelog.write(analysis)
                self.latest = analysis
                log.debug("frame %d: %d faces in %s", frame.index, len(analysis.visible_faces),
                          ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in analysis.timings.items()))
                self.analysed += 1
                self.faces_seen += len(analysis.visible_faces)
                self.busy_s += analysis.timings["total"]
        except BaseException as err:  # reported by the main loop, which then stops
            self.error = err


class Pipeline:
    """source -> (worker: analysis) -> renderer -> sink, at `fps` output frames per second."""

    def __init__(self, source: Source, analyzer: FrameAnalyzer, renderer: Renderer, sink: Sink, fps: float,
                 facelog: FaceLog | None = None):
        self.source = source
        self.renderer = renderer
        self.sink = sink
        self.fps = fps
        self.worker = AnalysisWorker(analyzer, facelog)
        self.stats = RunStats()

    def run(self, duration: float | None = None) -> RunStats:
        """Run until Ctrl-C, the end of the source, the viewer stops, a source or sink fails, or `duration`
        seconds have passed. `self.stats.frames_sent` counts up while it runs."""
        stats = self.stats = RunStats()
        period = 1.0 / self.fps
        start = next_tick = time.monotonic()
        shown: Analysis | None = None
        self.worker.start()
        try:
            while duration is None or time.monotonic() - start < duration:
                frame = self.source.read()
                if frame is None:
                    log.info("the source has ended")
                    break
                self.worker.submit(frame)
                if self.worker.error is not None:
                    raise self.worker.error
                latest = self.worker.latest
                if latest is not None and latest is not shown:
                    self.renderer.update_mood(latest.timestamp, latest.faces)
                    shown = latest
                if not self.sink.send(self.renderer.render(frame.image, shown.faces if shown else ())):
                    log.info("the preview window was closed")
                    break
                stats.frames_sent += 1
                next_tick += period
                delay = next_tick - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -period:  # fell behind: do not try to catch up with a burst
                    next_tick = time.monotonic()
        except KeyboardInterrupt:
            log.info("stopping (Ctrl-C)")
        except (SourceError, SinkError) as err:
            log.info("stopping: the %s failed", "source" if isinstance(err, SourceError) else "output")
            stats.error = str(err)
        finally:
            self.worker.stop()
            self.worker.join()
            stats.wall_s = time.monotonic() - start
            stats.frames_analysed = self.worker.analysed
            stats.analysis_s = self.worker.busy_s / max(self.worker.analysed, 1)
        return stats
