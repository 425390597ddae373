"""Capture: the screen of a real X server (Xvfb), video files, still images and the demo gallery."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import cv2
import mss
import numpy as np
import pytest
from PIL import Image

from ferbot.capture import SourceError, open_source, screen, video
from ferbot.capture.demo import DemoSource
from ferbot.capture.display import Display, make_dpi_aware
from ferbot.capture.screen import ScreenSource
from ferbot.capture.video import StillImageSource, VideoFileSource
from ferbot.detect.tiling import find_tiles
from ferbot.geometry import Rect
from tests.helpers.data import REPO, save_rgb, write_video
from tests.helpers.faces import photo
from tests.helpers.requires import unavailable
from tests.helpers.xserver import shown_on_screen, xvfb


@pytest.fixture(scope="module")
def display():
    with xvfb() as name:
        yield name


@pytest.mark.display
def test_screen_source_captures_what_an_x_client_shows(display, monkeypatch, tmp_path):
    picture = cv2.resize(photo("mpl_grace_hopper.jpg"), (1920, 1080))
    picture[:100, :100] = (255, 0, 0)  # a pure red corner: RGB order must survive
    monkeypatch.setenv("DISPLAY", display)
    with shown_on_screen(display, picture, tmp_path):
        source = open_source("screen")
        first, second = source.read(), source.read()
        source.close()
    assert first.image.shape == (1080, 1920, 3) and first.image.dtype == np.uint8
    assert np.abs(first.image.astype(int) - picture).mean() < 2
    assert tuple(first.image[50, 50]) == (255, 0, 0)
    assert second.index == first.index + 1 and second.timestamp >= first.timestamp


@pytest.mark.display
def test_the_capture_outlives_its_looks_at_the_screen_on_an_x_server_that_resets(monkeypatch):
    """ScreenSource reconnects every RECHECK_S to read the screen's layout. On an X server with no other client
    (Xvfb as xvfb-run starts it), closing the only connection resets the server and a connection made meanwhile
    fails: "lost the screen" two seconds into a run, in 5 of 7 of a reviewer's runs. The new connection must open
    before the old one closes."""
    with xvfb((640, 360), resets=True) as name:
        monkeypatch.setenv("DISPLAY", name)
        display = Display()
        for _ in range(30):
            assert display.reopen()[0]["width"] == 640
            assert display.grab(display.monitors[0]).shape == (360, 640, 3)
        display.close()


@pytest.mark.display
def test_region_captures_that_rectangle(display, monkeypatch, tmp_path):
    picture = cv2.resize(photo("codait_luciano.jpg"), (1920, 1080))
    monkeypatch.setenv("DISPLAY", display)
    with shown_on_screen(display, picture, tmp_path):
        source = ScreenSource(region=Rect(100, 200, 640, 360))
        frame = source.read()
        source.close()
    assert frame.image.shape == (360, 640, 3)
    assert np.abs(frame.image.astype(int) - picture[200:560, 100:740]).mean() < 2


@pytest.mark.display
def test_a_grab_of_another_size_than_the_area_is_resized_to_the_area(display, monkeypatch, tmp_path):
    """Stand-in at mss's grab result only: the real X screen's grab, doubled, as a Retina Mac's is where mss is set
    to grab 2 pixels a point (mss.darwin.IMAGE_OPTIONS = 0). The frame keeps the region's size and picture, so that
    boxes and --exclude stay in the screen's units."""
    picture = cv2.resize(photo("codait_luciano.jpg"), (1920, 1080))
    monkeypatch.setenv("DISPLAY", display)
    with shown_on_screen(display, picture, tmp_path):
        grab = mss.MSS.grab
        monkeypatch.setattr(mss.MSS, "grab", lambda screen, area: cv2.resize(
            np.asarray(grab(screen, area)), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))
        source = ScreenSource(region=Rect(100, 200, 640, 360))
        frame = source.read()
        source.close()
    assert frame.image.shape == (360, 640, 3)
    assert np.abs(frame.image.astype(int) - picture[200:560, 100:740]).mean() < 2


class _Windll:
    """Stand-in for ctypes.windll, Windows' own boundary, which cannot exist here: records the DPI awareness asked
    for. `v2`: user32 has SetProcessDpiAwarenessContext (Windows 10 from its 1703 update on); each call answers
    FALSE, as Windows does where the awareness is already set."""

    def __init__(self, v2: bool):
        self.asked = []
        self.user32 = SimpleNamespace()
        if v2:
            self.user32.SetProcessDpiAwarenessContext = lambda context: self._ask("context", context.value)
        self.shcore = SimpleNamespace(SetProcessDpiAwareness=lambda awareness: self._ask("awareness", awareness))

    def _ask(self, kind: str, value: int) -> int:
        self.asked.append((kind, value))
        return 0


@pytest.mark.parametrize("v2, asked", [
    (True, [("context", ctypes.c_void_p(-4).value)]),  # DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, a handle
    (False, [("awareness", 2)]),  # PROCESS_PER_MONITOR_DPI_AWARE
], ids=["per-monitor v2", "per-monitor before Windows 10 1703"])
def test_on_windows_the_process_is_made_per_monitor_dpi_aware(monkeypatch, v2, asked):
    """Stubbed at Windows' boundary only (ctypes.windll, and sys.platform to reach it): per-monitor v2 is asked for
    first, per-monitor where Windows has no v2, and Windows' refusal (the awareness already set) is no error."""
    windll = _Windll(v2)
    monkeypatch.setattr(ctypes, "windll", windll, raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    make_dpi_aware()
    assert windll.asked == asked


@pytest.mark.skipif(sys.platform == "win32", reason="checks that nothing is asked elsewhere")
def test_elsewhere_dpi_awareness_is_left_alone():
    assert not hasattr(ctypes, "windll")  # so make_dpi_aware cannot have reached for it
    make_dpi_aware()


@pytest.mark.parametrize("kwargs, message", [
    ({"monitor": 5}, "monitor 5 does not exist"),
    ({"monitor": -1}, "monitor -1 does not exist"),
    ({"region": Rect(1800, 0, 400, 300)}, "is not inside the screen"),
    ({"region": Rect(0, 0, 2, 2)}, "too small to hold a meeting's tile"),  # was a TypeError at the first analysis
])
@pytest.mark.display
def test_screen_mistakes_say_what_to_do(display, monkeypatch, kwargs, message):
    monkeypatch.setenv("DISPLAY", display)
    with pytest.raises(SourceError, match=message):
        ScreenSource(**kwargs)


@pytest.mark.display
def test_a_wayland_session_gets_a_one_line_warning_at_start(display, monkeypatch, caplog):
    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    ScreenSource().close()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "Wayland session" in warnings[0] and "\n" not in warnings[0]
    assert "Xorg" in warnings[0] and "XWayland" in warnings[0]  # what to do
    caplog.clear()
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    ScreenSource().close()
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


class _MonitorList:
    """mss's monitor list, the external boundary, faked (the only thing here): no X server here makes a second
    monitor that mss lists (Xvfb's virtual monitors have no outputs), nor lists none. ferbot's Display, its
    connections and its grabs are all real, on the Xvfb screen of 1920x1080, where the laptop's is its top left
    1280x720.
    Each mss connection reads `now` once, as mss caches its own list; `read` holds the lists read."""

    whole = {"left": 0, "top": 0, "width": 1920, "height": 1080}
    laptop = {"left": 0, "top": 0, "width": 1280, "height": 720, "is_primary": True}

    def __init__(self):
        self.now = [self.whole, self.laptop]
        self.read: list[list[dict]] = []

    def monitors(self, sct: mss.MSS) -> list[dict]:
        if not hasattr(sct, "_test_monitors"):
            sct._test_monitors = self.now
            self.read.append(self.now)
        return sct._test_monitors


@pytest.fixture
def monitor_list(display, monkeypatch, tmp_path):
    """A real photograph shown on the Xvfb screen, whose mss monitor list is a _MonitorList, looked at again on
    every read of a ScreenSource; yields the list and the photograph."""
    layout = _MonitorList()
    monkeypatch.setenv("DISPLAY", display)
    picture = cv2.resize(photo("mpl_grace_hopper.jpg"), (1920, 1080))
    with shown_on_screen(display, picture, tmp_path):  # which looks at the real screen until it shows
        monkeypatch.setattr(mss.MSS, "monitors", property(layout.monitors))
        monkeypatch.setattr(screen, "RECHECK_S", 0.0)
        yield layout, picture


@pytest.mark.display
def test_without_monitor_the_capture_stays_on_the_primary_monitor_when_a_display_is_plugged_in(monitor_list):
    """A projector plugged in between two reads of the screen's layout: the operating system then lists it first,
    before the laptop's own screen, which stays the primary one (Windows lists displays in the order it finds
    them)."""
    layout, picture = monitor_list
    source = ScreenSource()
    before = source.read()
    projector = {"left": -1280, "top": 0, "width": 1280, "height": 720, "is_primary": False}
    layout.now = [{"left": -1280, "top": 0, "width": 3200, "height": 1080}, projector, layout.laptop]
    after = source.read()
    source.close()
    assert layout.now in layout.read  # the second read looked at the layout with the projector in it
    assert source.area == {key: layout.laptop[key] for key in ("left", "top", "width", "height")}  # not the projector
    for frame in (before, after):
        assert frame.image.shape == (720, 1280, 3)
        assert np.abs(frame.image.astype(int) - picture[:720, :1280]).mean() < 2  # grabbed from the X screen


@pytest.mark.display
def test_a_moment_without_a_monitor_listed_keeps_the_capture_going(monitor_list):
    """While a display is plugged in or out, the operating system can list no monitor for a moment (mss then gives
    only its entry for the whole screen). Without --monitor the capture followed the primary monitor, taken as
    mss's number 1 where none is marked primary: that number did not exist, and the run ended with an IndexError's
    traceback (no report). The whole screen is captured meanwhile, and the primary monitor again once listed."""
    layout, picture = monitor_list
    source = ScreenSource()
    layout.now = [layout.whole]
    during = source.read()
    layout.now = [layout.whole, layout.laptop]
    after = source.read()
    source.close()
    assert [layout.whole] in layout.read
    assert during.image.shape == (1080, 1920, 3) and after.image.shape == (720, 1280, 3)  # the whole screen, then
    for frame in (during, after):  # the laptop's again; grabbed from the X screen
        assert np.abs(frame.image.astype(int) - picture[:frame.image.shape[0], :frame.image.shape[1]]).mean() < 2


@pytest.mark.display
def test_a_monitor_gone_holds_its_last_picture_until_it_is_back_or_the_wait_is_over(monitor_list, monkeypatch,
                                                                                    caplog):
    """--monitor 1 unplugged for a moment (a cable reconnected, mirroring switched on) ended the run at once: its last
    picture is held (the same frame, so it is not analysed again) and the capture goes on once it is back; gone for
    GONE_WAIT_S, the run ends with one line."""
    layout, _ = monitor_list
    monkeypatch.setattr(screen, "GONE_WAIT_S", 2.0)
    source = ScreenSource(monitor=1)
    try:
        before = source.read()
        layout.now = [layout.whole]
        assert source.read() is before and source.read() is before
        layout.now = [layout.whole, layout.laptop]
        after = source.read()
        assert after.index > before.index and after.image.shape == (720, 1280, 3)
        layout.now = [layout.whole]
        assert source.read() is after
        time.sleep(2.1)
        with pytest.raises(SourceError, match="monitor 1 has been gone for 2 s: the screen now has no monitor listed"):
            source.read()
    finally:
        source.close()
    assert caplog.text.count("monitor 1 is no longer on the screen: holding its last picture") == 2
    assert caplog.text.count("monitor 1 is back on the screen") == 1


def test_no_display_says_so(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(SourceError, match="DISPLAY is not set"):
        ScreenSource()


def test_video_file_plays_in_real_time_and_ends(tmp_path):
    """Each read gives the frame due by the time since the first read, and the end (None) comes once the last frame
    is past. The source's clock starts inside the first read and is read inside each later one, so the times taken
    around those reads bound the index it must give exactly, however slow this machine is."""
    path, count, fps = tmp_path / "clip.avi", 12, 10
    # frame i is a flat colour: red channel 200, blue channel 20 * i
    write_video(path, (np.full((120, 160, 3), (200, 0, 20 * i), np.uint8) for i in range(count)), fps=fps)
    source = open_source(str(path))
    assert isinstance(source, VideoFileSource) and source.fps == pytest.approx(fps)
    started = time.monotonic()
    first = source.read()
    first_read = time.monotonic()
    assert first.index == 0 and first.image[..., 0].mean() > 190  # RGB: red first
    time.sleep(0.45)  # about four frames later
    before = time.monotonic()
    later = source.read()
    after = time.monotonic()
    assert later is not None, f"ended {after - started:.2f} s in, before its {count / fps:.1f} s"
    assert int((before - first_read) * fps) <= later.index <= int((after - started) * fps)
    assert later.timestamp == pytest.approx(later.index / fps)
    assert later.image[..., 2].mean() == pytest.approx(20 * later.index, abs=8)
    deadline = started + count / fps + 10
    while source.read() is not None:
        assert time.monotonic() < deadline, "the video never ends"
        time.sleep(0.02)
    assert time.monotonic() - started >= count / fps  # not before its last frame was due
    source.close()


def test_unreadable_video_says_so(tmp_path):
    fake = tmp_path / "lecture.mp4"
    fake.write_text("not a video")
    with pytest.raises(SourceError, match="cannot read .*lecture.mp4"):
        open_source(str(fake))
    with pytest.raises(SourceError, match="no such file"):
        open_source(str(tmp_path / "missing.mp4"))
    with pytest.raises(SourceError, match="not a regular file"):
        open_source("/dev/null")


def test_a_slideshow_video_plays_at_its_own_slow_rate(tmp_path, caplog):
    """A recording at 0.5 fps (a slideshow, a time-lapse) was played at 30 fps: 60 times too fast, and its log's
    times 60 times too short."""
    path = write_video(tmp_path / "slides.avi", [np.full((120, 160, 3), 40 * i, np.uint8) for i in range(3)], fps=0.5)
    source = open_source(str(path))
    assert source.fps == pytest.approx(0.5) and "no usable frame rate" not in caplog.text
    source.close()


def test_a_damaged_image_says_so_not_to_check_its_path(tmp_path):
    jpeg = cv2.imencode(".jpg", cv2.cvtColor(photo("singnet_woman_portrait.jpg"), cv2.COLOR_RGB2BGR))[1].tobytes()
    (tmp_path / "class.jpg").write_bytes(jpeg[:2000])
    with pytest.raises(SourceError, match="class.jpg is damaged or not an image OpenCV reads"):
        open_source(str(tmp_path / "class.jpg"))


def test_a_damaged_gif_says_so_in_one_line(tmp_path, capfd):
    Image.new("RGB", (16, 16)).save(tmp_path / "sound.gif")
    if not cv2.haveImageReader(str(tmp_path / "sound.gif")):
        pytest.skip(f"this OpenCV build ({cv2.__version__}, within the versions ferbot supports) reads no GIF as an "
                    "image: FFmpeg reads it, whose message this test does not check; newer wheels, as CI installs, "
                    "read GIFs")
    (tmp_path / "class.gif").write_bytes(b"GIF89a" + bytes(40))
    with pytest.raises(SourceError, match="class.gif is damaged or not an image OpenCV reads"):
        open_source(str(tmp_path / "class.gif"))
    assert capfd.readouterr().err == ""  # none of OpenCV's own decoder errors before ferbot's line


class SteppedClock:
    """A Stopwatch stand-in that reads what the test sets."""

    seconds = 0.0

    def now(self) -> float:
        return SteppedClock.seconds


def test_an_animated_gif_plays_as_a_video(tmp_path, monkeypatch):
    """An animated image was read as a still picture where OpenCV reads GIFs as images: its first frame only,
    analysed once, for as long as the bot ran. A multi-page TIFF (FFmpeg plays only its first page) stays a still."""
    monkeypatch.setattr(video, "Stopwatch", SteppedClock)
    frames = [Image.fromarray(np.full((120, 160, 3), 40 * i, np.uint8)) for i in range(5)]
    frames[0].save(tmp_path / "class.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
    source = open_source(str(tmp_path / "class.gif"))
    assert isinstance(source, VideoFileSource) and source.fps == pytest.approx(5)
    shown = []
    for step in range(6):
        SteppedClock.seconds = 0.2 * step + 0.01
        frame = source.read()
        shown.append(None if frame is None else round(float(frame.image.mean()) / 40))
    assert shown == [0, 1, 2, 3, 4, None]
    source.close()
    frames[0].save(tmp_path / "scan.tiff", save_all=True, append_images=frames[1:])
    assert isinstance(open_source(str(tmp_path / "scan.tiff")), StillImageSource)


def _played(source: VideoFileSource, at: list[float]) -> list[tuple[int, float] | None]:
    """(index, timestamp) of the frame `source` shows at each of the SteppedClock times `at`; None once it ended."""
    shown = []
    for seconds in at:
        SteppedClock.seconds = seconds
        frame = source.read()
        shown.append(None if frame is None else (frame.index, round(frame.timestamp, 3)))
    source.close()
    return shown


def test_a_variable_frame_rate_recording_shows_each_frame_at_its_own_time(tmp_path, monkeypatch):
    """Meeting apps record at a variable frame rate: few frames while the picture holds still. Each frame was
    shown at its number over the header's average rate, so a pause in the recording was spread over the frames
    around it, and the log's times were off by seconds. A GIF with its own delay for each frame, and an MP4 with a
    four-second pause (tests/data/videos/ATTRIBUTION.md says how it was made)."""
    monkeypatch.setattr(video, "Stopwatch", SteppedClock)
    frames = [Image.fromarray(np.full((120, 160, 3), 40 * i, np.uint8)) for i in range(5)]
    frames[0].save(tmp_path / "class.gif", save_all=True, append_images=frames[1:], duration=[100, 2000, 100, 300, 100],
                   loop=0)
    gif = open_source(str(tmp_path / "class.gif"))
    assert _played(gif, [0.05, 0.15, 1.5, 2.15, 2.3, 2.45, 2.55, 2.61]) == [
        (0, 0.0), (1, 0.1), (1, 0.1), (2, 2.1), (3, 2.2), (3, 2.2), (4, 2.5), None]
    mp4 = open_source(str(REPO / "tests/data/videos/paused_recording.mp4"))
    assert _played(mp4, [0.21, 2.0, 3.99, 4.1, 4.55, 4.59, 4.61]) == [
        (5, 0.2), (9, 0.36), (9, 0.36), (12, 4.08), (23, 4.52), (24, 4.56), None]  # FFmpeg gives 23 the time of 22


def test_joined_recordings_keep_their_pauses_and_a_last_frame_after_a_pause_lasts_a_moment(tmp_path, monkeypatch):
    """Recordings joined end to end (the frame times start again half-way) play on, one after the other, with the
    second one's pause kept; the last frame of a recording that paused before it lasts as the file says, not as
    long as the pause; and a frame without a time of its own after a pause (FFmpeg's last, flushed, frames) comes
    one frame after the one before, not one pause."""
    monkeypatch.setattr(video, "Stopwatch", SteppedClock)
    joined = open_source(str(REPO / "tests/data/videos/joined_recordings.ts"))
    assert _played(joined, [1.39, 1.45, 2.0, 2.61, 2.77, 2.81]) == [
        (9, 1.36), (11, 1.44), (14, 1.56), (15, 2.6), (19, 2.76), None]
    paused = open_source(str(REPO / "tests/data/videos/paused_before_the_end.mp4"))
    assert _played(paused, [0.85, 4.5, 4.53, 4.57, 4.61]) == [(21, 0.84), (22, 4.48), (23, 4.52), (24, 4.56), None]
    frames = [Image.fromarray(np.full((120, 160, 3), 40 * i, np.uint8)) for i in range(3)]
    frames[0].save(tmp_path / "class.gif", save_all=True, append_images=frames[1:], duration=[100, 5000, 100], loop=0)
    assert _played(open_source(str(tmp_path / "class.gif")), [5.15, 5.21]) == [(2, 5.1), None]  # not until 10.1 s


def test_still_image_repeats_one_frame(tmp_path):
    """The picture as RGB (a lossless PNG: exactly its pixels), the same frame on every read."""
    picture = photo("singnet_woman_portrait.jpg")
    source = open_source(str(save_rgb(tmp_path / "class.png", picture)))
    assert isinstance(source, StillImageSource)
    a, b = source.read(), source.read()
    assert a.index == b.index == 0 and b.timestamp >= a.timestamp
    np.testing.assert_array_equal(a.image, picture)
    np.testing.assert_array_equal(b.image, picture)


def test_demo_needs_no_display_and_moves(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    source = DemoSource()
    first = source.read()
    time.sleep(0.2)
    second = source.read()
    assert first.image.shape == (1080, 1920, 3)
    assert len(find_tiles(first.image)) == 9
    assert np.abs(first.image.astype(int) - second.image).mean() > 0.1  # participants sway


@pytest.mark.skipif(os.name != "posix" or (os.geteuid() == 0 and not shutil.which("setpriv")),
                    reason="needs a user without the file's read permission (as root: setpriv)")
def test_a_video_the_user_cannot_read_says_so():
    """It got two of OpenCV's warnings and an error that blamed the file's format."""
    folder = Path(tempfile.mkdtemp())  # beside pytest's private folders: one another user may enter
    try:
        folder.chmod(0o755)
        video = write_video(folder / "lecture.avi", [np.zeros((120, 160, 3), np.uint8)] * 3, fps=10)
        video.chmod(0o000)
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        if subprocess.run([*as_nobody, sys.executable, "-c", "import ferbot.capture"], cwd=REPO,
                          capture_output=True, timeout=120).returncode:
            unavailable("the user nobody cannot run this Python (its folders are private): keep the checkout and "
                        "its .venv where other users may read them, as CI does")
        code = "from ferbot.capture import open_source; open_source(__import__('sys').argv[1])"
        result = subprocess.run([*as_nobody, sys.executable, "-c", code, str(video)], capture_output=True, text=True,
                                cwd=REPO, timeout=120)
    finally:
        shutil.rmtree(folder)
    assert result.returncode == 1
    assert f"SourceError: --source {video}: cannot read it (Permission denied); check the file's permissions" \
        in result.stderr
    assert "WARN" not in result.stderr


def test_a_damaged_recording_plays_on_past_the_damage_and_one_cut_short_says_so(tmp_path, monkeypatch, caplog):
    """A recording with a damaged stretch (2 kB overwritten half-way, as a bad sector or a broken download leaves
    it) ended at the damage as if the lesson had: silently, its report covering half of it. FFmpeg reads on past
    what it cannot decode, so the rest plays and the frames skipped are logged. A file cut short (a copy stopped, a
    drive unplugged) plays what it has and says that it ends before the time its header gives; a whole one says
    nothing, nor does a slideshow, whose last frame starts 5 s before the end."""
    monkeypatch.setattr(video, "Stopwatch", SteppedClock)
    frames = [cv2.putText(np.full((120, 160, 3), 30, np.uint8), str(i), (20, 80), cv2.FONT_HERSHEY_SIMPLEX, 2,
                          (255, 255, 255), 3) for i in range(60)]  # 6 s at 10 fps, each frame its own
    whole_mp4 = tmp_path / "lesson.mp4"
    writer = cv2.VideoWriter(str(whole_mp4), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 120))
    for frame in frames:
        writer.write(frame)
    writer.release()
    whole_avi = write_video(tmp_path / "lesson.avi", frames, 10)
    damaged, cut = bytearray(whole_mp4.read_bytes()), whole_avi.read_bytes()
    middle = len(damaged) // 2
    damaged[middle:middle + 2000] = np.random.default_rng(0).integers(0, 256, 2000, np.uint8).tobytes()
    (tmp_path / "damaged.mp4").write_bytes(damaged)
    (tmp_path / "cut.avi").write_bytes(cut[:len(cut) // 2])
    every_frame = [step / 10 + 0.05 for step in range(62)]

    def last_shown(name: str) -> tuple[int, float]:
        caplog.clear()
        shown = _played(open_source(str(tmp_path / name)), every_frame)
        return [played for played in shown if played is not None][-1]

    assert last_shown("lesson.mp4") == (59, 5.9) and last_shown("lesson.avi") == (59, 5.9)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    write_video(tmp_path / "slides.avi", frames[:5], 0.2)  # a slideshow: its last frame shows 5 s, to the end
    caplog.clear()
    assert _played(open_source(str(tmp_path / "slides.avi")), [5 * step + 0.5 for step in range(6)])[-2:] == [
        (4, 20.0), None]
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    index, seconds = last_shown("damaged.mp4")
    assert seconds == 5.9 and index >= 55  # to the end, a few frames skipped
    assert re.search(r"damaged\.mp4: \d+ frames? after 0:00:0\d could not be decoded", caplog.text)
    index, seconds = last_shown("cut.avi")
    assert 2 < seconds < 4
    assert "cut.avi ends at 0:00:03, before the 0:00:06 its header gives" in caplog.text
