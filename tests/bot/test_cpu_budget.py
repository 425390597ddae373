"""A light guest on the teacher's laptop: the analysis rate, the unchanged-screen check, the cached render layer,
and the notice when no face is found; and a bug in the last analysis, raised.

The scheduling tests run the pipeline with a stand-in analyzer of a known cost (no detector, no classifier), so
that they count exactly what the worker analysed on any machine; the notice test runs the real analyzer on the
demo gallery. benchmarks/cpu_budget.py measures the real bot's CPU use.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from ferbot.analysis import Analysis, FrameAnalyzer
from ferbot.capture.base import Frame
from ferbot.capture.demo import DEMO_NAMES, DemoSource
from ferbot.capture.gallery import draw_name_tags, empty_gallery, gallery_tiles
from ferbot.capture.video import StillImageSource
from ferbot.pipeline import AnalysisWorker, Pipeline, no_face_help
from ferbot.render import Renderer
from ferbot.render.compose import scale_picture
from ferbot.sink import open_sink
from tests.helpers.faces import CLASSROOM, photo, tracked_face


class CountingAnalyzer:
    """Stands in for FrameAnalyzer: takes `cost_s` per frame and records the frames it analysed; finds the faces
    `faces(t)` returns for a frame at t seconds (none by default)."""

    def __init__(self, cost_s: float = 0.005, faces=lambda t: ()):
        self.cost_s = cost_s
        self.faces = faces
        self.frames: list[int] = []

    def analyze(self, frame: Frame) -> Analysis:
        time.sleep(self.cost_s)
        self.frames.append(frame.index)
        return Analysis(frame.index, frame.timestamp, tuple(self.faces(frame.timestamp)),
                        timings={"total": self.cost_s})

    def close(self) -> None:
        pass


class Screen:
    """A new frame on every read; `moving`: a different picture each time, else the same one."""

    def __init__(self, moving: bool):
        self.moving, self.index = moving, 0
        self.start = time.monotonic()
        self.rng = np.random.default_rng(0)
        self.image = self.rng.integers(0, 255, (360, 640, 3), np.uint8)

    def read(self) -> Frame:
        self.index += 1
        image = self.rng.integers(0, 255, (360, 640, 3), np.uint8) if self.moving else self.image
        return Frame(image, time.monotonic() - self.start, self.index)

    def close(self) -> None:
        pass


def run(rate: float | None, moving: bool = True, seconds: float = 2.0, refresh_s: float = 1.0):
    analyzer = CountingAnalyzer()
    pipeline = Pipeline(Screen(moving), analyzer, Renderer((640, 360)), open_sink("none", (640, 360), 30), 30,
                        analysis_rate=rate)
    pipeline.worker.refresh_s = refresh_s
    return pipeline.run(seconds), analyzer


def test_the_analysis_rate_caps_the_worker():
    stats, analyzer = run(rate=4.0)
    assert 4 <= stats.frames_analysed <= 9  # at most 4 per second for 2 s (the first one at once)
    assert stats.frames_sent >= 40  # the feed keeps near its 30 fps (a busy machine may stall it a little)
    uncapped, _ = run(rate=None)
    assert uncapped.frames_analysed > 3 * stats.frames_analysed  # 'max': as fast as it goes, today's behaviour


def test_an_unchanged_screen_is_looked_at_but_analysed_once_a_refresh():
    stats, analyzer = run(rate=10.0, moving=False, seconds=2.5)
    assert 2 <= stats.frames_analysed <= 4  # at 0 s, ~1 s and ~2 s
    assert stats.frames_unchanged >= 15  # the other checks (10 a second) saw the same screen
    moving, _ = run(rate=10.0, moving=True, seconds=2.5)
    assert moving.frames_analysed >= 15 and moving.frames_unchanged == 0  # at most 25


def test_the_max_rate_does_not_skip_unchanged_screens():
    stats, _ = run(rate=None, moving=False, seconds=1.0)
    assert stats.frames_unchanged == 0 and stats.frames_analysed > 10  # more than a rate of 10 would allow


def test_an_analysis_rate_too_small_to_wait_for_analyses_once_and_stops_cleanly():
    """A rate of 1e-10 a second puts the next analysis past the longest wait threading can make (OverflowError)."""
    stats, analyzer = run(rate=1e-10, seconds=1.0)
    assert stats.frames_analysed == 1 and analyzer.frames == [1]


def test_a_lost_wake_up_does_not_stop_the_analysis():
    """A Ctrl-C landing inside submit()'s notify (Condition.notify has taken the analysis thread's waiter off its
    list and not yet released it) left the thread asleep through every later frame and the stop: the labels froze,
    and stopping waited for it. That state is made here as the interrupt leaves it, on the real worker: the next
    frame is still analysed, and the stop still ends the thread."""
    analyzer, screen = CountingAnalyzer(), Screen(True)
    worker = AnalysisWorker(analyzer, None, None)
    worker.start()
    worker.submit(screen.read())
    deadline = time.monotonic() + 10
    while not (analyzer.frames and worker._wake._waiters) and time.monotonic() < deadline:
        time.sleep(0.01)  # until it has analysed the first frame and waits for the next
    worker._wake._waiters.clear()  # the interrupted notify
    worker.submit(screen.read())
    while len(analyzer.frames) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert worker.done.wait(timeout=5) and analyzer.frames == [1, 2]


def test_a_pipeline_runs_again_with_a_fresh_worker():
    analyzer = CountingAnalyzer()
    pipeline = Pipeline(Screen(True), analyzer, Renderer((640, 360)), open_sink("none", (640, 360), 30), 30,
                        analysis_rate=5.0)
    first, second = pipeline.run(0.5), pipeline.run(0.5)
    assert first.frames_analysed >= 1 and second.frames_analysed >= 1 and pipeline.worker.rate == 5.0


class EndingScreen(Screen):
    """A screen that ends (a recording) after `frames` frames."""

    def __init__(self, frames: int, moving: bool = True):
        super().__init__(moving)
        self.frames = frames

    def read(self) -> Frame | None:
        return super().read() if self.index < self.frames else None


class BuggyAnalyzer(CountingAnalyzer):
    """Fails on frame `index` with an exception no part of ferbot expects: a bug."""

    def __init__(self, index: int):
        super().__init__()
        self.index = index

    def analyze(self, frame: Frame) -> Analysis:
        if frame.index == self.index:
            raise ZeroDivisionError("a bug in the analysis")
        return super().analyze(frame)


def test_a_bug_in_the_last_analysis_is_raised():
    """The last frame of a source that ends is analysed once the loop has stopped (the analysis waits 10 s, the
    source lasts 3 frames): an unexpected exception there is raised from run(), as it is while the loop runs, not
    dropped."""
    pipeline = Pipeline(EndingScreen(3), BuggyAnalyzer(3), Renderer((640, 360)), open_sink("none", (640, 360), 30),
                        30, analysis_rate=0.1)
    with pytest.raises(ZeroDivisionError, match="a bug in the analysis"):
        pipeline.run(10)


@pytest.mark.parametrize("frames", range(15, 40, 3))
def test_a_recording_s_last_frame_is_analysed_though_it_looks_like_the_one_before(frames):
    """A video that ends on a still picture (a slide, the credits): its last frame is in the log all the same,
    whether the analysis took it (and skipped it as unchanged) before the end was known or not."""
    analyzer = CountingAnalyzer()
    pipeline = Pipeline(EndingScreen(frames, moving=False), analyzer, Renderer((640, 360)),
                        open_sink("none", (640, 360), 30), 30, analysis_rate=10.0)
    stats = pipeline.run(10)
    assert stats.frames_unchanged >= 1 and analyzer.frames[-1] == frames


def test_the_cached_layer_draws_what_a_full_redraw_draws(monkeypatch):
    """The labels and the panel are drawn once per analysis (and per new panel); each frame only brings a new
    picture, and the frame is the one a full redraw makes."""
    demo = DemoSource()
    first, second = demo.read().image, np.ascontiguousarray(demo.read().image[::-1])
    faces = (tracked_face((300, 200, 120, 120)), tracked_face((900, 500, 140, 140)))
    renderer = Renderer()
    layers = []
    draw_layer = renderer._draw_layer
    monkeypatch.setattr(renderer, "_draw_layer", lambda *args: layers.append(args) or draw_layer(*args))
    renderer.render(first, faces)
    again = renderer.render(second, faces)  # the same faces object: the cached layer
    assert len(layers) == 1
    np.testing.assert_array_equal(again, Renderer().render(second, faces))
    renderer.update_mood(1.0, faces)  # a new panel: the layer is drawn again
    fresh = Renderer()
    fresh.update_mood(1.0, faces)
    np.testing.assert_array_equal(renderer.render(second, faces), fresh.render(second, faces))
    assert len(layers) == 2


@pytest.mark.parametrize("source, size", [((1080, 1920), (1000, 563)), ((2160, 3840), (1000, 563)),
                                          ((480, 640), (1000, 750)), ((1080, 1920), (960, 540))])
def test_the_picture_is_scaled_to_the_size_asked(source, size):
    """A real photograph, scaled the cheap way, is the picture OpenCV's area filter makes (a mean difference under 1
    grey level; a picture cut 8 px short differs by 3-14)."""
    image = cv2.resize(photo(CLASSROOM), (source[1], source[0]), interpolation=cv2.INTER_CUBIC)
    scaled = scale_picture(image, size)
    assert scaled.shape == (size[1], size[0], 3)
    assert np.abs(scaled.astype(int) - cv2.resize(image, size, interpolation=cv2.INTER_AREA)).mean() < 1
    assert np.abs(scaled.astype(int) - cv2.resize(image[::-1], size, interpolation=cv2.INTER_AREA)).mean() > 20


class NoticeSink:
    """Keeps the frames it is sent."""

    def __init__(self):
        self.frames: list[np.ndarray] = []

    def send(self, frame: np.ndarray) -> bool:
        self.frames.append(frame)
        return True

    def close(self) -> None:
        pass


class CamerasOn:
    """The demo gallery with every camera off but from `on_s[0]` to `on_s[1]` seconds, when its faces show."""

    def __init__(self, on_s: tuple[float, float], size: tuple[int, int] = (1280, 720)):
        self.demo, self.on_s = DemoSource(size), on_s
        self.off = empty_gallery(gallery_tiles(len(DEMO_NAMES), size), size)
        draw_name_tags(self.off, DEMO_NAMES, gallery_tiles(len(DEMO_NAMES), size))

    def read(self) -> Frame:
        frame = self.demo.read()
        on = self.on_s[0] <= frame.timestamp < self.on_s[1]
        return frame if on else Frame(self.off.copy(), frame.timestamp, frame.index)

    def close(self) -> None:
        pass


def test_no_face_for_a_while_says_what_to_check_once_until_faces_come_back(default_classifier, caplog):
    """The real analyzer (detector, classifier, tracker) on a gallery whose cameras are on from 1.5 to 3.5 s."""
    default_classifier.warmup()  # compiled before the clock runs, so the first faces are seen while they show
    sink, layout = NoticeSink(), Renderer((640, 360)).layout
    with FrameAnalyzer(default_classifier, layout.markers) as analyzer:
        pipeline = Pipeline(CamerasOn((1.5, 3.5)), analyzer, Renderer((640, 360)), sink, 30, analysis_rate=10,
                            no_face_s=0.7)
        pipeline.worker.refresh_s = 0.25  # the still gallery of cameras off is analysed 4 times a second
        pipeline.run(9.0)  # the second notice is due ~0.7 s after the last analysis that found faces, ~3.5-5 s
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    line, notice = no_face_help(0.7)
    assert warnings == [line, line]  # at ~0.7 s, and again ~0.7 s after the cameras went off at 3.5 s
    assert "gallery view" in line and "right monitor or window" in line and "\n" not in line
    assert any("faces found again" in r.getMessage() for r in caplog.records)
    assert pipeline.renderer.notice == notice  # on at the end
    # the feed shows it: the frames sent before ~0.7 s differ from the last ones only in the picture and the notice
    area = pipeline.renderer.layout.screen_area.as_int()
    top = slice(area[1] + 8, area[1] + 40)
    dark = [np.mean(np.all(f[top] == (30, 30, 36), axis=2)) for f in (sink.frames[0], sink.frames[-1])]
    assert dark[0] < 0.01 < 0.1 < dark[1]


def test_a_still_image_without_faces_gets_the_notice_too(default_classifier, tmp_path, caplog):
    """`--source` of a picture (a slide, a real PNG file) is analysed once, and the notice was only ever checked when
    a new analysis came: it never showed."""
    slide = np.full((720, 1280, 3), 255, np.uint8)
    cv2.putText(slide, "Photosynthesis", (100, 200), cv2.FONT_HERSHEY_SIMPLEX, 3, (40, 40, 40), 6)
    cv2.imwrite(str(tmp_path / "slide.png"), slide)
    default_classifier.warmup()  # compiled before the clock runs
    sink, renderer = NoticeSink(), Renderer((640, 360))
    with FrameAnalyzer(default_classifier, renderer.layout.markers) as analyzer:
        pipeline = Pipeline(StillImageSource(tmp_path / "slide.png"), analyzer, renderer, sink, 30, no_face_s=1)
        stats = pipeline.run(4.0)
    assert stats.frames_analysed == 1
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [no_face_help(1)[0]]
    assert pipeline.renderer.notice == no_face_help(1)[1]


def test_the_notice_names_the_macos_permission_only_on_macos(monkeypatch):
    monkeypatch.setattr("sys.platform", "darwin")
    line, notice = no_face_help(20)
    assert "Screen Recording" in line and any("Screen Recording" in n for n in notice)
    monkeypatch.setattr("sys.platform", "linux")
    assert "Screen Recording" not in no_face_help(20)[0]
