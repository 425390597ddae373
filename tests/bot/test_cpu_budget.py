"""A light guest on the teacher's laptop: the analysis rate, the unchanged-screen check, the cached render layer,
and the notice when no face is found; and a bug in the last analysis, raised.

The scheduling tests run the pipeline with the real analyzer (detector, classifier, tracker) on small real sources
(the demo gallery, which moves; a video of a still photograph), and read the schedule from the times each analysis
began and ended, not from counts in a fixed window of wall-clock time: a busy machine makes fewer analyses, never
closer ones. benchmarks/cpu_budget.py measures the real bot's CPU use.
"""

from __future__ import annotations

import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from ferbot.analysis import Analysis, FrameAnalyzer
from ferbot.capture.base import Frame
from ferbot.capture.demo import DEMO_NAMES, DemoSource
from ferbot.capture.gallery import draw_name_tags, empty_gallery, gallery_tiles
from ferbot.capture.video import StillImageSource, VideoFileSource
from ferbot.pipeline import AnalysisWorker, Pipeline, no_face_help
from ferbot.render import Renderer
from ferbot.render.compose import scale_picture
from ferbot.sink import open_sink
from tests.helpers.data import REPO, write_video
from tests.helpers.faces import CLASSROOM, photo, tracked_face

SIZE = (640, 360)
# What the worker does between taking a frame (its clock read) and starting its analysis, with the feed's thread
# and a busy machine taking turns at the interpreter
EPSILON_S = 0.05


class TimedAnalyzer(FrameAnalyzer):
    """The real FrameAnalyzer, which also keeps each analysis with the monotonic times it began and ended: the
    schedule the tests check. `bug_at`: the analysis of that number (1: the first) raises, after its real work, an
    exception no part of ferbot expects (a bug)."""

    def __init__(self, *args, bug_at: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.bug_at = bug_at
        self.analyses: list[tuple[float, float, Analysis]] = []

    def analyze(self, frame: Frame) -> Analysis:
        began = time.monotonic()
        analysis = super().analyze(frame)
        self.analyses.append((began, time.monotonic(), analysis))
        if len(self.analyses) == self.bug_at:
            raise ZeroDivisionError("a bug in the analysis")
        return analysis

    def began(self, count: int | None = None) -> np.ndarray:
        """When the first `count` analyses (all: None) began."""
        return np.array([began for began, _, _ in self.analyses[:count]])

    @property
    def indices(self) -> list[int]:
        return [analysis.frame_index for _, _, analysis in self.analyses]


@pytest.fixture(scope="module")
def warm(default_classifier, finder):
    """The classifier and the face finder, each run once before the tests' clocks run."""
    default_classifier.warmup()
    with FrameAnalyzer(default_classifier, Renderer(SIZE).layout.markers, finder=finder) as analyzer:
        analyzer.analyze(DemoSource(SIZE).read())
    return default_classifier, finder


@pytest.fixture
def new_analyzer(warm):
    """Makes a fresh TimedAnalyzer (its own tracker) on the warm classifier and face finder."""
    classifier, finder = warm
    return lambda **kwargs: TimedAnalyzer(classifier, Renderer(SIZE).layout.markers, finder=finder, **kwargs)


class UntilAnalysed:
    """A real source that ends, as a recording does, once `analyzer` has made `count` analyses: the run lasts as long
    as this machine takes for them, with no window of wall-clock time to fit them in. (The source's end then has
    its last frame analysed at once, whatever the rate: the tests read the schedule of the first `count` only.)"""

    def __init__(self, source, analyzer: TimedAnalyzer, count: int):
        self.source, self.analyzer, self.count = source, analyzer, count
        self.recorded = source.recorded

    def read(self) -> Frame | None:
        return None if len(self.analyzer.analyses) >= self.count else self.source.read()

    def close(self) -> None:
        self.source.close()


class LastFrameKept(VideoFileSource):
    """A real video file, which keeps the last frame it gave: a busy reader may never be given the file's very
    last frame (it is skipped once past), so the recording's end is the last frame read."""

    last: Frame | None = None

    def read(self) -> Frame | None:
        frame = super().read()
        self.last = frame or self.last
        return frame


def still_video(path, frames: int, fps: float = 30) -> LastFrameKept:
    """A video of `frames` frames of one real photograph: a screen that does not change."""
    picture = cv2.resize(photo(CLASSROOM), SIZE, interpolation=cv2.INTER_AREA)
    return LastFrameKept(write_video(path, [picture] * frames, fps=fps))


def run(analyzer, source, rate: float | None, seconds: float = 60, refresh_s: float = 1.0):
    pipeline = Pipeline(source, analyzer, Renderer(SIZE), open_sink("none", SIZE, 30), 30, analysis_rate=rate)
    pipeline.worker.refresh_s = refresh_s
    return pipeline.run(seconds)


def test_the_analysis_rate_caps_the_worker(new_analyzer):
    capped = new_analyzer()
    stats = run(capped, UntilAnalysed(DemoSource(SIZE), capped, 4), rate=4.0)
    assert stats.error is None and len(capped.analyses) >= 4
    assert np.diff(capped.began(4)).min() >= 1 / 4 - EPSILON_S  # never two within a quarter of a second
    assert stats.frames_sent >= 2 * stats.frames_analysed  # the feed goes on between analyses (~7 each at 30 fps)
    uncapped = new_analyzer()
    run(uncapped, UntilAnalysed(DemoSource(SIZE), uncapped, 5), rate=None)
    idle = [began - ended for (_, ended, _), (began, _, _) in zip(uncapped.analyses[:4], uncapped.analyses[1:5])]
    assert np.median(idle) < 0.15  # 'max': the next one as soon as a new frame is there (one every 1/30 s)


def test_an_unchanged_screen_is_looked_at_but_analysed_once_a_refresh(new_analyzer, tmp_path):
    still = new_analyzer()
    stats = run(still, UntilAnalysed(still_video(tmp_path / "still.avi", 150, fps=10), still, 3), rate=10.0,
                refresh_s=2.0)
    assert len(still.analyses) >= 3  # analysed again after each refresh_s, before the 15 s video ended
    assert np.diff(still.began(3)).min() >= 2.0 - EPSILON_S  # not at the rate's 0.1 s
    assert stats.frames_unchanged >= 1  # the checks between saw the same screen
    moving = new_analyzer()
    stats = run(moving, UntilAnalysed(DemoSource(SIZE), moving, 4), rate=10.0, refresh_s=2.0)
    assert stats.frames_unchanged == 0
    assert np.diff(moving.began(4)).min() >= 0.1 - EPSILON_S


def test_the_max_rate_does_not_skip_unchanged_screens(new_analyzer, tmp_path):
    analyzer = new_analyzer()
    stats = run(analyzer, UntilAnalysed(still_video(tmp_path / "still.avi", 150, fps=10), analyzer, 3), rate=None,
                refresh_s=5.0)
    assert stats.frames_unchanged == 0 and len(analyzer.analyses) >= 3
    assert np.diff(analyzer.began(3)).max() < 5.0  # the same picture again, long before a refresh was due


def test_an_analysis_rate_too_small_to_wait_for_analyses_once_and_stops_cleanly(new_analyzer):
    """A rate of 1e-10 a second puts the next analysis past the longest wait threading can make (OverflowError)."""
    analyzer = new_analyzer()
    stats = run(analyzer, DemoSource(SIZE), rate=1e-10, seconds=1.0)
    assert stats.frames_analysed == len(analyzer.analyses) == 1 and stats.error is None


def test_a_lost_wake_up_does_not_stop_the_analysis(new_analyzer):
    """A Ctrl-C landing inside submit()'s notify (Condition.notify has taken the analysis thread's waiter off its
    list and not yet released it) left the thread asleep through every later frame and the stop: the labels froze,
    and stopping waited for it. That state is made here as the interrupt leaves it, on the real worker: the next
    frame is still analysed, and the stop still ends the thread."""
    analyzer, demo = new_analyzer(), DemoSource(SIZE)
    worker = AnalysisWorker(analyzer, None, None)
    worker.start()
    worker.submit(demo.read())
    deadline = time.monotonic() + 10
    while not (analyzer.analyses and worker._wake._waiters) and time.monotonic() < deadline:
        time.sleep(0.01)  # until it has analysed the first frame and waits for the next
    worker._wake._waiters.clear()  # the interrupted notify
    worker.submit(demo.read())
    while len(analyzer.analyses) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert worker.done.wait(timeout=5) and analyzer.indices == [0, 1]


def test_a_pipeline_runs_again_with_a_fresh_worker(new_analyzer):
    analyzer = new_analyzer()
    pipeline = Pipeline(DemoSource(SIZE), analyzer, Renderer(SIZE), open_sink("none", SIZE, 30), 30,
                        analysis_rate=5.0)
    first, second = pipeline.run(0.5), pipeline.run(0.5)
    assert first.frames_analysed >= 1 and second.frames_analysed >= 1 and pipeline.worker.rate == 5.0
    assert len(analyzer.analyses) == first.frames_analysed + second.frames_analysed


def test_a_bug_in_the_last_analysis_is_raised(new_analyzer, tmp_path):
    """The last frame of a source that ends is analysed once the loop has stopped (the analysis after the first
    waits 10 s, the recording lasts 0.3 s): an unexpected exception there (the second analysis) is raised from run(),
    as it is while the loop runs, not dropped."""
    analyzer = new_analyzer(bug_at=2)
    recording = still_video(tmp_path / "short.avi", 3, fps=10)
    pipeline = Pipeline(recording, analyzer, Renderer(SIZE), open_sink("none", SIZE, 30), 30, analysis_rate=0.1)
    with pytest.raises(ZeroDivisionError, match="a bug in the analysis"):
        pipeline.run(10)
    assert len(analyzer.analyses) == 2 and analyzer.indices[-1] == recording.last.index  # once it had ended


@pytest.mark.parametrize("frames", range(30, 57, 3))
def test_a_recording_s_last_frame_is_analysed_though_it_looks_like_the_one_before(new_analyzer, tmp_path, frames):
    """A video that ends on a still picture (a slide, the credits): its last frame is in the log all the same,
    whether the analysis took it (and skipped it as unchanged) before the end was known or not. (A refresh_s longer
    than the video: every frame after the first looks unchanged, however slow the analysis.)"""
    analyzer, recording = new_analyzer(), still_video(tmp_path / "still.avi", frames)
    stats = run(analyzer, recording, rate=10.0, seconds=10, refresh_s=5.0)
    assert stats.frames_unchanged >= 1 and analyzer.indices[-1] == recording.last.index


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

    recorded = False  # live, as the demo is (Source.recorded)

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


# In a fresh process set up as the bot sets itself up (use_bot_cpu): the tracker compares 49 faces' looks 50 times,
# 20 ms apart, as analyses come; prints the process's CPU time and the loop's wall time
LOOK_MATCHING = """
import time, numpy as np
from ferbot.bot import use_bot_cpu
from ferbot.track.names import look_unlikeness
use_bot_cpu()
looks = [np.random.default_rng(i).integers(0, 255, (16, 16)).astype(np.uint8) for i in range(49)]
wall, cpu = time.perf_counter(), time.process_time()
for _ in range(50):
    look_unlikeness(looks, looks)
    time.sleep(0.02)
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def test_numpy_s_blas_takes_no_second_core_in_the_bot():
    """numpy's OpenBLAS ran the tracker's product of 49 thumbnails on a second thread, which went on spinning after
    it: 1.09 s of CPU for this loop's 1.05 s, against 0.04 s on one thread (use_bot_cpu's BLAS_THREADS)."""
    result = subprocess.run([sys.executable, "-c", LOOK_MATCHING], cwd=REPO, capture_output=True, text=True,
                            timeout=120, check=True)
    cpu_s, wall_s = map(float, result.stdout.split())
    assert cpu_s < 0.5 * wall_s, (cpu_s, wall_s)
