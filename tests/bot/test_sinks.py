"""Sinks: video file, preview window on a real X screen, none, and the "FER Cam" virtual camera.

The virtual camera needs a kernel driver (v4l2loopback) that cannot be loaded here. Only that driver
boundary is replaced, in the tests marked DRIVER MOCK: a stand-in registered through pyvirtualcam's own
backend registry plus the sysfs entry the driver would create. Everything above it runs for real.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import cv2
import numpy as np
import pytest
import pyvirtualcam
from pyvirtualcam import camera as pyvirtualcam_camera

from ferbot.capture.demo import DemoSource
from ferbot.render import Renderer
from ferbot.render.compose import BAR_BACKGROUND, DISCLOSURE_RED
from ferbot.sink import SinkError, open_sink, parse_sink
from ferbot.sink import file as file_sink
from ferbot.sink.base import NullSink
from ferbot.sink.vcam import CAMERA_NAME, STOPPED_CARD_S, VirtualCameraSink, named_v4l2_device
from ferbot.sink.window import WINDOW_TITLE, qt_scale
from tests.helpers.cli import env_with, ferbot, one_error_line
from tests.helpers.data import REPO, read_video
from tests.helpers.requires import need_program, unavailable
from tests.helpers.vcam import LoopbackDevice, RefusingDevice
from tests.helpers.xserver import desktop, grab_screen, qt_on, xvfb

SIZE = (320, 180)


def _frames(n):
    """RGB frames whose red channel counts up, with a green square that moves."""
    frames = []
    for i in range(n):
        frame = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
        frame[..., 0] = 10 * i
        frame[40:80, 20 + 10 * i:60 + 10 * i, 1] = 255
        frames.append(frame)
    return frames


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_file_sink_writes_a_decodable_video(tmp_path, suffix):
    path = tmp_path / f"feed{suffix}"
    sink = open_sink(f"file:{path}", SIZE, 10)
    frames = _frames(12)
    assert all(sink.send(f) for f in frames)
    sink.close()
    decoded, fps = read_video(path)
    assert len(decoded) == 12 and decoded[0].shape == (180, 320, 3)
    assert fps == pytest.approx(10)
    for sent, got in zip(frames, decoded):
        assert np.abs(sent.astype(int) - got).mean() < 6  # lossy, but the same pictures in the same order


def test_a_run_that_stops_before_its_first_frame_leaves_no_video(tmp_path):
    """The screen grab failing at once (or a Ctrl-C): the empty video is not kept, so the same command can be run
    again (an existing file is refused)."""
    path = tmp_path / "lesson.mp4"
    open_sink(f"file:{path}", SIZE, 10).close()
    assert not path.exists()
    open_sink(f"file:{path}", SIZE, 10).close()


@pytest.mark.parametrize("when", ["starting the writer", "checking free space"])
def test_a_ctrl_c_while_the_video_opens_leaves_no_file(tmp_path, monkeypatch, when):
    """The empty file is made first (readable by its owner only), then OpenCV's writer opens it and the free space
    is checked: an interrupt (or OpenCV's own error) in between left the empty file, which the next run then
    refused as already there. The interrupt is raised where OpenCV or the disk would be asked."""
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(*((cv2, "VideoWriter") if when == "starting the writer"
                          else (file_sink.VideoFileSink, "_check_free_space")), interrupted)
    path = tmp_path / "lesson.avi"
    with pytest.raises(KeyboardInterrupt):
        open_sink(f"file:{path}", SIZE, 10)
    assert not path.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="file modes are POSIX's")
@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_the_video_of_the_students_is_readable_by_its_owner_only(tmp_path, suffix):
    path = tmp_path / f"feed{suffix}"
    sink = open_sink(f"file:{path}", SIZE, 10)
    assert (path.stat().st_mode & 0o777) == 0o600  # from the start, before a frame of a face is in it
    sink.send(_frames(1)[0])
    sink.close()
    assert (path.stat().st_mode & 0o777) == 0o600 and read_video(path)[0]


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_a_file_fed_slower_than_its_fps_lasts_as_long_as_the_feed(tmp_path, suffix, caplog):
    """A feed that falls behind (a loaded machine): frames sent at a third of the file's 30 fps for about a second.
    The file still plays for as long as the sends took, each frame from the time it was sent (the one before it
    repeated meanwhile), so the video's times are the log's. The bounds come from the times taken around each send:
    exact, however slow the machine."""
    fps, path = 30, tmp_path / f"feed{suffix}"
    sink = open_sink(f"file:{path}", SIZE, fps)
    frames, around = _frames(10), []
    for frame in frames:
        before = time.monotonic()
        assert sink.send(frame)
        around.append((before, time.monotonic()))
        time.sleep(3 / fps)
    with caplog.at_level("INFO", logger="ferbot.sink.file"):
        sink.close()
    decoded, _ = read_video(path)
    shown = [int(np.argmin([np.abs(f.astype(int) - got).mean() for f in frames])) for got in decoded]
    assert shown == sorted(shown) and set(shown) == set(range(len(frames)))  # each frame, in order
    (first_before, first_after), (last_before, last_after) = around[0], around[-1]
    for index, (before, after) in enumerate(around):  # each frame where its send's time puts it
        assert int((before - first_after) * fps) <= shown.index(index) <= int((after - first_before) * fps)
    assert shown[-1] == len(frames) - 1 and shown.count(shown[-1]) == 1  # the file ends with the last send
    # so it plays for as long as the sends took (~1 s, where one frame per send would last 10 / 30 s)
    assert last_before - first_after <= len(decoded) / fps <= last_after - first_before + 1 / fps
    assert last_before - first_after > 0.8
    repeats = len(decoded) - len(frames)
    assert f"wrote {len(decoded)} frames ({repeats} of them repeats" in caplog.text


def test_an_encoder_slower_than_the_fps_warns_and_a_ctrl_c_while_finishing_leaves_a_playable_file(
        tmp_path, caplog, monkeypatch):
    """MPEG-4 at 50,000 fps: no computer encodes that in real time, so within a second of feed the encoder is far
    behind (a 4K video at 30 fps on a slow laptop, sped up; the warning's threshold too, to half a second). A
    warning says so, with what keeps up. Closing would write the ~50,000 frames due; a real SIGINT (Ctrl-C) to the
    main thread while it does ends it at once with the frames sent, and the file plays."""
    monkeypatch.setattr(file_sink, "BEHIND_WARNING_S", 0.5)
    fps, path = 50_000, tmp_path / "feed.mp4"
    sink = open_sink(f"file:{path}", SIZE, fps)
    frames = _frames(8)
    with caplog.at_level("INFO", logger="ferbot.sink.file"):
        for frame in frames:
            assert sink.send(frame)
            time.sleep(0.15)
        interrupt = threading.Timer(0.5, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT))
        interrupt.start()
        with pytest.raises(KeyboardInterrupt):
            sink.close()
        interrupt.join()
    # no clock bound on the close: the count of frames written below says it stopped short of the ~60,000 due
    assert "encodes the video more slowly than 50000 frames a second" in caplog.text
    assert "without the repeated frames still to write" in caplog.text
    video, written, last = cv2.VideoCapture(str(path)), 0, None
    while (picture := video.read()[1]) is not None:  # read through, keeping only the last picture
        written, last = written + 1, picture
    video.release()
    assert len(frames) - sink.left_out <= written < fps * 0.15 * len(frames)
    assert np.abs(cv2.cvtColor(last, cv2.COLOR_BGR2RGB).astype(int) - frames[-1]).mean() < 6


def test_a_feed_that_pauses_is_not_taken_for_a_slow_encoder(tmp_path, caplog, monkeypatch):
    """The feed stops for two seconds (the bot busy elsewhere, or suspended), then goes on, with an encoder that
    writes 60 frames a second, twice the video's 30 (OpenCV's writer slowed to that, as on a slower computer): the
    pause's repeats take a second to write, the video catches up, and no warning says the encoder is slow (the
    threshold brought down to half a second, as above). The pause is in the video, as long as it was."""
    monkeypatch.setattr(file_sink, "BEHIND_WARNING_S", 0.5)
    monkeypatch.setattr(file_sink, "_video_writer", _slowed(file_sink._video_writer, frames_per_s=60))
    fps, path = 30, tmp_path / "feed.avi"
    sink = open_sink(f"file:{path}", SIZE, fps)
    with caplog.at_level("INFO", logger="ferbot.sink.file"):
        for frame, pause_s in zip(_frames(4), (0.2, 2.0, 0.2, 0)):
            assert sink.send(frame)
            time.sleep(pause_s)
        sink.close()
    assert "more slowly" not in caplog.text
    assert sink.frames >= 2.3 * fps


def _slowed(video_writer, frames_per_s):
    """sink.file's _video_writer, its writer slowed to write at most `frames_per_s` frames a second."""
    class Slowed:
        def __init__(self, writer):
            self._writer = writer

        def write(self, picture):
            time.sleep(1 / frames_per_s)
            self._writer.write(picture)

        def __getattr__(self, name):
            return getattr(self._writer, name)

    def open_slowed(*args):
        writer, raw = video_writer(*args)
        return Slowed(writer), raw
    return open_slowed


def test_a_ctrl_c_that_loses_the_writers_wake_up_does_not_hang_the_video(tmp_path):
    """A Ctrl-C can land inside send()'s queue.put, in the middle of waking the writer thread (Condition.notify has
    taken the writer's waiter off its list and not yet released it): the writer then sleeps through every later
    frame and the end, and closing waited for it for ever, the video lost (seen twice in 40 runs of two quick
    Ctrl-Cs). That state is made here as the interrupt leaves it, on the real sink and queue: the writer's waiter
    taken off the list, unreleased. The video must still finish, with every frame sent."""
    path = tmp_path / "feed.mp4"
    sink = open_sink(f"file:{path}", SIZE, 10)
    frames = _frames(3)
    for frame in frames:
        assert sink.send(frame)
    deadline = time.monotonic() + 10
    while not (sink._queue.empty() and sink._queue.not_empty._waiters) and time.monotonic() < deadline:
        time.sleep(0.01)  # until the writer has written them and waits for the next
    sink._queue.not_empty._waiters.clear()  # the interrupted notify
    closing = threading.Thread(target=sink.close, daemon=True)
    closing.start()
    closing.join(timeout=10)
    assert not closing.is_alive(), "the video never finished"
    assert len(read_video(path)[0]) == len(frames)


class _HeldWriter:
    """OpenCV's real video writer, each write held until `go` is set: an encoder stuck far behind."""

    def __init__(self, writer, go):
        self._writer, self._go = writer, go

    def write(self, picture):
        self._go.wait()
        self._writer.write(picture)

    def __getattr__(self, name):
        return getattr(self._writer, name)


def test_the_feed_never_waits_for_an_encoder_that_is_behind(tmp_path, monkeypatch):
    """The encoder stuck on its first frame (a 4K MPEG-4 video on a loaded laptop, held here by a gate around
    OpenCV's real writer): all the sends return while the encoder is still held (once FRAMES_QUEUED frames waited,
    the feed, and the analysis with it, waited for the encoder, here for ever); the oldest frames waiting gave way
    to the newest, and once the encoder goes on the file ends with the last frame sent."""
    go, open_writer = threading.Event(), file_sink._video_writer

    def held_writer(*args):
        writer, jpeg = open_writer(*args)
        return _HeldWriter(writer, go), jpeg

    monkeypatch.setattr(file_sink, "_video_writer", held_writer)
    path = tmp_path / "feed.avi"
    sink = open_sink(f"file:{path}", SIZE, 30)
    frames = _frames(12)
    sender = threading.Thread(target=lambda: [sink.send(frame) for frame in frames], daemon=True)
    sender.start()
    try:
        sender.join(timeout=10)
        assert not sender.is_alive(), "a send waited for the held encoder"  # checked while it is still held
    finally:
        go.set()
    sink.close()
    decoded, _ = read_video(path)
    shown = [int(np.argmin([np.abs(f.astype(int) - got).mean() for f in frames])) for got in decoded]
    assert sink.left_out >= len(frames) - 1 - file_sink.FRAMES_QUEUED
    assert len(set(shown)) == len(frames) - sink.left_out and shown[-1] == len(frames) - 1


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_a_writer_that_starts_late_still_writes_the_video(tmp_path, monkeypatch, suffix):
    """The encoder's thread gets no CPU for the first frames (a loaded 2-core laptop; held here by a gate before
    the real thread's work): the frames sent meanwhile gave way to newer ones, the first too, and the thread,
    taking a later one first, "repeated" the frame before it, which there was none of: an .avi stopped at 0 s
    ("check the disk") and an .mp4 began with an empty frame. Now the first frame taken stands for those before."""
    go, write_frames = threading.Event(), file_sink.VideoFileSink._write_frames

    def late(self):
        go.wait(timeout=10)
        write_frames(self)

    monkeypatch.setattr(file_sink.VideoFileSink, "_write_frames", late)
    path, fps = tmp_path / f"feed{suffix}", 30
    sink = open_sink(f"file:{path}", SIZE, fps)
    frames = _frames(12)
    for frame in frames:
        sink.send(frame)
        time.sleep(1 / fps)
    go.set()
    sink.close()
    decoded, _ = read_video(path)
    shown = [int(np.argmin([np.abs(f.astype(int) - got).mean() for f in frames])) for got in decoded]
    assert sink.left_out > 0 and shown == sorted(shown) and shown[-1] == len(frames) - 1
    assert len(decoded) == sink.frames  # every tick a frame: the video keeps the feed's times
    assert all(np.abs(got.astype(int) - frames[i]).mean() < 10 for got, i in zip(decoded, shown))  # none empty


def _noise(rng):
    """A frame of noise: hard to compress (14-35 KiB at SIZE), and close to no other frame."""
    return rng.integers(0, 256, (SIZE[1], SIZE[0], 3), np.uint8)


def _fill_until_refused(sink, fps):
    """Send frames of noise until the sink refuses one; the frames sent, and the refusal."""
    rng, sent = np.random.default_rng(0), []
    with pytest.raises(SinkError) as refused:
        for _ in range(120 * fps):
            frame = _noise(rng)
            sink.send(frame)
            sent.append(frame)
    return sent, str(refused.value)


def _assert_plays_up_to_the_stop(path, sent):
    decoded, _ = read_video(path)
    assert 5 <= len(decoded) <= len(sent)
    for i, other in ((0, 1), (len(decoded) - 1, len(decoded) - 2)):  # noise: a frame is only close to itself
        assert np.abs(decoded[i].astype(int) - sent[i]).mean() < np.abs(decoded[i].astype(int) - sent[other]).mean()


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MiB file system (tmpfs), mounted for the test; unavailable where this user may not mount one (CI
    runs as root, which may)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a small tmpfs here ({mounted.stderr.decode().strip()}): run as root (as CI does), "
                    "with the right to mount; the next test stands in meanwhile")
    yield disk
    subprocess.run(["umount", "--lazy", str(disk)], check=True)


@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_a_video_on_a_disk_that_fills_up_stops_and_plays(small_disk, suffix, monkeypatch):
    """A real disk filling up: OpenCV's writer fails silently there, and an .mp4 cut off lacks its index and plays
    not at all. The sink stops while the reserve is free (1 MiB here, so that 4 MiB hold some seconds), says so,
    and the file plays up to there."""
    monkeypatch.setattr(file_sink, "FREE_SPACE_RESERVE", 2**20)
    fps, path = 5, small_disk / f"lesson{suffix}"
    sink = open_sink(f"file:{path}", SIZE, fps)
    sent, message = _fill_until_refused(sink, fps)
    sink.close()
    assert "stopped the video at" in message and "MiB free, under the 1 MiB ferbot leaves free" in message
    assert "write the video to another disk" in message and "\n" not in message
    _assert_plays_up_to_the_stop(path, sent)


def test_a_video_stops_when_free_space_falls_below_the_reserve(tmp_path, monkeypatch):
    """The same where no small disk can be mounted: the reserve raised above the free space, once the video has
    begun (the disk check and the file are real). And a disk already that full is refused at the start."""
    fps, path = 5, tmp_path / "lesson.mp4"
    sink = open_sink(f"file:{path}", SIZE, fps)
    rng = np.random.default_rng(1)
    sent = [_noise(rng) for _ in range(3 * fps)]
    for frame in sent:
        sink.send(frame)
    monkeypatch.setattr(file_sink, "FREE_SPACE_RESERVE", 2**62)
    more, message = _fill_until_refused(sink, fps)
    sink.close()
    assert "stopped the video at" in message
    _assert_plays_up_to_the_stop(path, sent + more)
    with pytest.raises(SinkError, match="cannot start a video: its disk has only .* MiB free"):
        open_sink(f"file:{tmp_path / 'next.mp4'}", SIZE, fps)
    assert not (tmp_path / "next.mp4").exists()


@pytest.mark.slow
def test_a_video_that_a_file_size_limit_cuts_off_stops_the_run_in_one_line(tmp_path):
    """A limit on the size of one file (FAT32 takes 4 GiB at most; here `ulimit -f`, RLIMIT_FSIZE, under which Python
    meets EFBIG: it ignores SIGXFSZ), through the real command: OpenCV's writer failed at every frame past it, with a
    console warning each, while the run went on, logged every frame as written and ended well, the video cut short
    (an .avi kept 117 of 600 frames). The run now stops once the file stops growing, in one line that says so and
    what to do, without the warnings, and the video plays up to where it says."""
    path = tmp_path / "lesson.avi"
    result = ferbot("--demo", "--sink", f"file:{path}", "--size", "640x360", "--duration", "30", file_blocks=2000,
                    env=env_with(XDG_CACHE_HOME=str(tmp_path / "cache")))  # caches apart: they cannot grow either
    line = one_error_line(result)
    assert result.returncode == 1
    assert "the video file stopped growing at" in line and "takes no larger file (FAT32 takes 4 GiB" in line
    assert "record to another disk, or in shorter parts" in line
    assert "Failed to write frame" not in result.stderr
    decoded, fps = read_video(path)
    kept_s = int(re.search(r"keeps the video up to about (\d+) s", line)[1])
    assert len(decoded) > 10 and abs(len(decoded) / fps - kept_s) <= 1.5


def test_a_matroska_video_whose_first_frame_is_held_back_is_not_taken_for_stopped(tmp_path):
    """At --fps 1 the file is checked after its first frame, which the Matroska writer holds back until the next: a
    large first picture (over 512 KiB as JPEG, a busy 4K screen) read as a file that stopped growing at 0 MiB."""
    path = tmp_path / "lesson.mkv"
    sink = open_sink(f"file:{path}", (3840, 2160), 1)
    noisy = np.random.default_rng(0).integers(0, 256, (2160, 3840, 3), np.uint8)  # JPEG of noise: megabytes
    for _ in range(3):
        assert sink.send(noisy)
        time.sleep(1.0)
    sink.close()
    assert len(read_video(path)[0]) >= 2


def test_a_video_whose_folder_goes_away_stops_in_one_line(tmp_path):
    """A USB stick pulled out mid-lesson, as its folder deleted: the next frame sent fails with a SinkError (which
    the bot turns into a clean stop and its report), not with the OSError met in the writing thread."""
    stick = tmp_path / "stick"
    stick.mkdir()
    fps, path = 5, stick / "lesson.mp4"
    sink = open_sink(f"file:{path}", SIZE, fps)
    for frame in _frames(3):
        sink.send(frame)
    shutil.rmtree(stick)
    _, message = _fill_until_refused(sink, fps)
    sink.close()
    assert "stopped the video at" in message and "No such file or directory" in message
    assert "check the disk (unplugged? full?)" in message and "\n" not in message


@pytest.mark.parametrize("spec, message", [
    ("file:{tmp}/nowhere/feed.mp4", "does not exist"),
    ("file:{tmp}/feed.gif", "unknown video type"),
])
def test_file_sink_mistakes(tmp_path, spec, message):
    with pytest.raises(SinkError, match=message):
        open_sink(spec.format(tmp=tmp_path), SIZE, 30)


def test_sink_specs():
    assert [(k.name, p) for k, p in map(parse_sink, ("vcam", "file:out/x.mp4", "file:C:/x.mp4"))] == [
        ("vcam", None), ("file", "out/x.mp4"), ("file", "C:/x.mp4")]
    for bad in ("webcam", "none:x", ""):
        with pytest.raises(ValueError, match="expected vcam"):
            parse_sink(bad)
    with pytest.raises(ValueError, match="file: needs a path"):
        parse_sink("file:")
    assert isinstance(open_sink("none", SIZE, 30), NullSink) and NullSink().send(_frames(1)[0])


WINDOW_CHILD = """
import sys, time
from pathlib import Path
import numpy as np
from ferbot.sink import open_sink
window = open_sink("window", (320, 180), 30)
frame = np.zeros((180, 320, 3), np.uint8)
frame[40:80, 60:100, 1] = 255
stop, deadline = Path(sys.argv[1]), time.monotonic() + 60
while not stop.exists() and time.monotonic() < deadline:
    assert window.send(frame)
    time.sleep(0.03)
window.close()
"""


@pytest.mark.display
def test_preview_window_shows_frames_on_a_real_x_screen(tmp_path):
    """The window sink in its own process (its GUI toolkit holds the X connection), seen through mss.

    On a bare Xvfb (no window manager) a new Qt window sometimes never paints (about one in ten here, with
    OpenCV's Qt build); each attempt is a fresh process and window, and up to three are allowed.
    """
    green_seen = 0
    with xvfb((800, 600)) as display:
        for attempt in range(3):
            stop = tmp_path / f"stop{attempt}"
            child = subprocess.Popen([sys.executable, "-c", WINDOW_CHILD, str(stop)], cwd=REPO,
                                     env={**os.environ, **qt_on(display)}, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20  # from the child's start: Python, OpenCV and Qt start up first
            while time.monotonic() < deadline and green_seen < 1600 and child.poll() is None:
                time.sleep(0.2)
                screen = grab_screen(display)
                green_seen = int(((screen[..., 1] > 200) & (screen[..., 0] < 100)).sum())
            stop.touch()
            _, errors = child.communicate(timeout=30)
            assert child.returncode == 0, errors
            if green_seen == 1600:
                break
    assert green_seen == 1600  # the 40x40 green square, unscaled


KEYS_CHILD = """
import time
import numpy as np
from ferbot.sink import open_sink
window = open_sink("window", (320, 180), 30)
deadline = time.monotonic() + 60
while time.monotonic() < deadline and window.send(np.zeros((180, 320, 3), np.uint8)):
    time.sleep(0.03)
print("stopped by a key" if time.monotonic() < deadline else "still running", flush=True)
window.close()
"""


def _preview_in_child(display: str, script: str = KEYS_CHILD, **env: str) -> tuple[subprocess.Popen, Callable, str]:
    """`script`'s preview window on `display`, in a process of its own (with `env` added to its environment): the
    process, xdotool on that display (a subprocess.run), and the window's id once it shows."""
    need_program("xdotool", package="xdotool")
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env={**os.environ, **qt_on(display), **env},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    xdotool = functools.partial(subprocess.run, env={**os.environ, "DISPLAY": display}, check=True, timeout=60,
                                capture_output=True, text=True)
    [window] = xdotool(["xdotool", "search", "--sync", "--onlyvisible", "--name", WINDOW_TITLE]).stdout.split()
    return child, xdotool, window


@pytest.mark.display
def test_preview_window_stops_on_q_and_not_on_an_arrow_key(tmp_path):
    """Keys typed into the real window on a real X screen (xdotool): q stops the run, Left does not (its X11
    keysym 0xff51 ends in the byte of "Q")."""
    with xvfb((800, 600)) as display:
        child, xdotool, window = _preview_in_child(display)
        xdotool(["xdotool", "windowfocus", "--sync", window])
        xdotool(["xdotool", "key", "Left"])
        time.sleep(1.0)
        assert child.poll() is None, child.communicate()
        xdotool(["xdotool", "key", "q"])
        out, errors = child.communicate(timeout=30)
    assert child.returncode == 0, errors
    assert out.strip() == "stopped by a key"


@pytest.mark.display
def test_preview_window_closed_by_the_window_manager_stops_the_run_quietly():
    """The real window on a real X screen with a window manager (openbox), closed from it as a title bar's X or
    Alt+F4 closes it: OpenCV's Qt backend then lets go of the window, and asking whether it is visible raised
    ("NULL guiReceiver"): a traceback, and no report."""
    with desktop((800, 600)) as display:
        child, xdotool, window = _preview_in_child(display)
        for _ in range(3):  # a key pressed while openbox still settles in on a busy machine can be lost (CI, once)
            shown = xdotool(["xdotool", "search", "--onlyvisible", "--name", WINDOW_TITLE], check=False).stdout
            if window in shown.split():
                xdotool(["xdotool", "windowactivate", "--sync", window])
                xdotool(["xdotool", "key", "alt+F4"])  # openbox's close, as its title bar's X
            try:
                out, errors = child.communicate(timeout=15)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            child.kill()
            pytest.fail("the window was still running after three closes: " + "".join(child.communicate()))
    assert child.returncode == 0, errors[-2000:]
    assert out.strip() == "stopped by a key"  # stopped before the child's own 60 s: send() said the window was gone


FEED_720P_CHILD = """
import time
import numpy as np
from ferbot.sink import open_sink
window = open_sink("window", (1280, 720), 30)
deadline = time.monotonic() + 60
while time.monotonic() < deadline and window.send(np.full((720, 1280, 3), 80, np.uint8)):
    time.sleep(0.03)
window.close()
"""


def _settled_size(xdotool: Callable, window: str, fits: Callable[[int, int], bool]) -> tuple[int, int]:
    """The window's (width, height) once `fits` it, or as it is after 10 s (a window manager settles it)."""
    deadline = time.monotonic() + 10
    while True:
        shell = xdotool(["xdotool", "getwindowgeometry", "--shell", window]).stdout
        size = int(re.search(r"WIDTH=(\d+)", shell)[1]), int(re.search(r"HEIGHT=(\d+)", shell)[1])
        if fits(*size) or time.monotonic() > deadline:
            return size
        time.sleep(0.2)


@pytest.mark.display
def test_the_preview_window_fits_a_laptop_screen_and_can_be_resized():
    """A 720p feed on a 1366x768 laptop screen, with a window manager (openbox): the window opened at the feed's full
    size and 62 px of Qt's toolbar and status bar more (1280x782), past the bottom of the screen, and could not be
    resized. It now opens inside the screen with the feed's shape (and no toolbar, whose button saved the students'
    faces to a file), and takes the size the user gives it, keeping that shape."""
    with desktop((1366, 768)) as display:
        child, xdotool, window = _preview_in_child(display, FEED_720P_CHILD)
        try:
            width, height = _settled_size(xdotool, window, lambda w, h: h <= 0.9 * 768)
            xdotool(["xdotool", "windowsize", window, "640", "360"])
            resized = _settled_size(xdotool, window, lambda w, h: w <= 660)
        finally:
            child.kill()
            child.communicate()
    assert width <= 0.9 * 1366 and height <= 0.9 * 768, (width, height)
    assert width / height == pytest.approx(16 / 9, rel=0.01)
    assert resized[0] == pytest.approx(640, abs=4) and resized[0] / resized[1] == pytest.approx(16 / 9, rel=0.02)


@pytest.mark.parametrize("environ, output, scale", [
    ({}, "DP-0", 1.0),
    ({"QT_SCALE_FACTOR": "2"}, "DP-0", 2.0),
    ({"QT_SCALE_FACTOR": "1.5"}, None, 1.5),
    ({"QT_SCREEN_SCALE_FACTORS": "DP-0=2;HDMI-1=1;"}, "DP-0", 2.0),  # as KDE Plasma exports it
    ({"QT_SCREEN_SCALE_FACTORS": "DP-0=2;HDMI-1=1;"}, "HDMI-1", 1.0),
    ({"QT_SCREEN_SCALE_FACTORS": "DP-0=2;HDMI-1=1;"}, None, 1.0),  # no output name from mss: no entry is its
    ({"QT_SCREEN_SCALE_FACTORS": "2;1"}, "DP-0", 2.0),  # by place: Qt lists the primary monitor first
    ({"QT_SCREEN_SCALE_FACTORS": "1;2"}, "DP-0", 1.0),
    ({"QT_SCREEN_SCALE_FACTORS": "bad;2"}, "DP-0", 1.0),  # Qt counts the places of entries it cannot read too
    ({"QT_SCALE_FACTOR": "2", "QT_SCREEN_SCALE_FACTORS": "HDMI-1=3;DP-0=1.25"}, "DP-0", 2.5),
    ({"QT_SCALE_FACTOR": "0", "QT_SCREEN_SCALE_FACTORS": "DP-0=-2"}, "DP-0", 1.0),  # Qt ignores them too
    ({"QT_SCALE_FACTOR": "two"}, "DP-0", 1.0),
    ({"QT_SCALE_FACTOR": "1_5"}, "DP-0", 1.0),  # Python's float reads 15
    ({"QT_SCALE_FACTOR": " 2 "}, "DP-0", 2.0),
])
def test_qt_scale_of_the_primary_monitor_is_read_as_qt_reads_it(environ, output, scale):
    """Qt 5.15's reading of its scale variables (OpenCV's Qt build), checked once case by case against the real X
    window that OpenCV's Qt gave the preview window on Xvfb (its one output, "screen", standing for DP-0)."""
    assert qt_scale(output, environ) == pytest.approx(scale)


@pytest.mark.display
@pytest.mark.parametrize("scaling", [{"QT_SCALE_FACTOR": "2"}, {"QT_SCREEN_SCALE_FACTORS": "screen=2;"}],
                         ids=["QT_SCALE_FACTOR", "QT_SCREEN_SCALE_FACTORS by output"])
def test_the_preview_window_fits_the_screen_under_qt_scaling(scaling):
    """A 720p feed on a 1366x768 screen with Qt scaling at 2 (a HiDPI desktop; Xvfb's one output is named "screen"):
    Qt takes the size ferbot asks for in its own scaled pixels, and the real X window was twice that, 2322x1306,
    running off the screen."""
    with xvfb((1366, 768)) as display:
        child, xdotool, window = _preview_in_child(display, FEED_720P_CHILD, **scaling)
        try:
            width, height = _settled_size(xdotool, window, lambda w, h: h <= 0.9 * 768)
        finally:
            child.kill()
            child.communicate()
    assert width <= 0.9 * 1366 and height <= 0.9 * 768, (width, height)
    assert width >= 0.8 * 1366 and width / height == pytest.approx(16 / 9, rel=0.01), (width, height)


CLOSED_CHILD = """
import cv2
import numpy as np
from ferbot.sink import open_sink
window = open_sink("window", (320, 180), 30)
window.send(np.zeros((180, 320, 3), np.uint8))

def gone(title):  # as Windows' OpenCV answers for a window closed by its title bar's X (opencv issue 20417)
    raise cv2.error("NULL window: " + repr(title))

cv2.destroyWindow = gone
window.close()
print("closed", flush=True)
"""


@pytest.mark.display
def test_preview_window_closed_by_its_title_bar_closes_quietly():
    """Stand-in at OpenCV's boundary only: the Windows backend raises when asked to destroy a window the user has
    closed, which the Linux build here ignores; the window itself is real, on a real X screen."""
    with xvfb((800, 600)) as display:
        child = subprocess.run([sys.executable, "-c", CLOSED_CHILD], cwd=REPO, env={**os.environ, **qt_on(display)},
                               capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "closed"


def test_preview_window_without_display_says_so(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(SinkError, match="DISPLAY is not set.*--sink file:PATH"):
        open_sink("window", SIZE, 30)


@pytest.mark.skipif(platform.system() != "Linux", reason="checks the Linux install hint")
def test_no_virtual_camera_driver_says_how_to_install_one():
    try:
        pyvirtualcam.Camera(*SIZE, 30).close()
        pytest.skip("a real virtual camera driver is installed and opens here, so there is no missing driver to "
                    "report: the message is checked on machines without one (CI has none)")
    except RuntimeError:
        pass
    with pytest.raises(SinkError) as caught:
        open_sink("vcam", SIZE, 30)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("no virtual camera could be opened on Linux (")
    assert 'modprobe v4l2loopback' in message and 'card_label="FER Cam"' in message
    assert "--sink window" in message and "--sink file:PATH" in message and "--sink none" in message


@pytest.mark.parametrize("message, advice", [
    (RefusingDevice.BUSY, "is busy: a program uses it in another size or format (the meeting app showing it, another "
                          "ferbot); close that program, or turn the camera off in the meeting, before changing --size "
                          "(fuser -v /dev/video7 names it)"),
    (RefusingDevice.NOT_PERMITTED, "is not open to this user: add the user to the 'video' group (sudo usermod -aG "
                                   "video $USER), then log out and in again"),
], ids=["busy", "not permitted"])
def test_a_fer_cam_device_that_does_not_open_gets_advice_for_it(loopback_driver, monkeypatch, message, advice):
    """DRIVER MOCK (loopback_driver, its backend refusing with pyvirtualcam's v4l2loopback backend's own messages):
    "FER Cam" is loaded (/dev/video7) but busy (a new --size while the meeting app still holds the camera) or not open
    to this user (not in the 'video' group). The advice was to install v4l2loopback, which is there; it is now for that
    device."""
    monkeypatch.setattr(RefusingDevice, "message", message)
    monkeypatch.setattr(pyvirtualcam_camera, "BACKENDS", {"v4l2loopback": RefusingDevice})
    with pytest.raises(SinkError) as caught:
        open_sink("vcam", SIZE, 30)
    said = str(caught.value)
    assert said.startswith(f'the "FER Cam" virtual camera /dev/video7 {advice}; ') and "\n" not in said
    assert "install" not in said and "modprobe" not in said
    assert said.endswith("or use --sink window, --sink file:PATH or --sink none")


def test_of_two_fer_cam_devices_the_first_by_number_is_used(loopback_driver, tmp_path):
    """DRIVER MOCK (loopback_driver's sysfs entries): v4l2loopback loaded with two devices labelled "FER Cam":
    /dev/video2 is the first, before /dev/video10 (sorted by name, video10 came first)."""
    for name in ("video2", "video10"):
        (tmp_path / name).mkdir(exist_ok=True)
        (tmp_path / name / "name").write_text(f"{CAMERA_NAME}\n")
    assert named_v4l2_device() == "/dev/video2"


@pytest.fixture(scope="module")
def ocr():
    from ferbot.names.ocr import TagOCR

    return TagOCR()


def test_the_virtual_camera_is_left_showing_that_the_analysis_has_stopped(loopback_driver, ocr):
    """DRIVER MOCK: a meeting app goes on showing a camera's last frame once the program sending it stops: that was
    the labelled feed, saying "Emotion analysis is ON", frozen in the meeting. The last second of frames the device
    gets is now a card, read back by OCR, that says the analysis has stopped, with no feed and no red dot."""
    size, fps = (640, 360), 30
    sink = open_sink("vcam", size, fps)
    feed = Renderer(size).render(DemoSource().read().image, [])
    for _ in range(3):
        sink.send(feed)
    started = time.monotonic()
    sink.close()
    took = time.monotonic() - started
    [device] = loopback_driver.opened
    frames = [frame.reshape(size[1], size[0], 3) for frame in device.frames]
    card, shown = frames[-1], round(STOPPED_CARD_S * fps)
    assert device.closed and len(frames) == 3 + shown and all((frame == card).all() for frame in frames[3:])
    assert took > STOPPED_CARD_S - 0.1  # shown at the feed's pace, not sent at once; an upper bound only for a hang:
    assert took < STOPPED_CARD_S + 10  # a loaded 2-core machine may be slow, the frame count above is exact
    assert "FER Cam stopped - no analysis" in ocr.read(card)[0]
    assert not (card == DISCLOSURE_RED).all(axis=2).any() and (card == BAR_BACKGROUND).all(axis=2).mean() > 0.9


def test_a_ctrl_c_cuts_the_stopped_card_short_and_the_camera_is_let_go(loopback_driver):
    """DRIVER MOCK: a Ctrl-C (a real SIGINT) while the card shows cuts it short (fewer of its frames sent than a
    whole card's), and the camera is still closed."""
    sink = open_sink("vcam", SIZE, 30)
    sink.send(_frames(1)[0])
    closed = threading.Event()
    interrupt = threading.Timer(0.2, lambda: closed.is_set() or signal.pthread_kill(threading.main_thread().ident,
                                                                                       signal.SIGINT))
    interrupt.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            sink.close()
    finally:
        closed.set()
        interrupt.join()
    [device] = loopback_driver.opened  # cut short: fewer card frames than the STOPPED_CARD_S a full close sends
    assert device.closed and 1 < len(device.frames) < 1 + STOPPED_CARD_S * 30


@pytest.fixture
def loopback_driver(monkeypatch, tmp_path):
    """DRIVER MOCK: a v4l2loopback device /dev/video7 labelled "FER Cam", with a webcam at /dev/video2. The driver's
    boundary is faked as a whole: pyvirtualcam's backend (LoopbackDevice), the driver's sysfs entries (V4L2_SYSFS
    pointed at a folder of this test's), and platform.system (Linux, where v4l2loopback is the driver)."""
    (tmp_path / "video7").mkdir()
    (tmp_path / "video7" / "name").write_text(f"{CAMERA_NAME}\n")
    (tmp_path / "video2").mkdir()
    (tmp_path / "video2" / "name").write_text("Integrated Webcam\n")
    monkeypatch.setattr("ferbot.sink.vcam.V4L2_SYSFS", tmp_path)
    monkeypatch.setattr("ferbot.sink.vcam.platform.system", lambda: "Linux")
    monkeypatch.setattr(pyvirtualcam_camera, "BACKENDS", {"v4l2loopback": LoopbackDevice})
    LoopbackDevice.opened = []
    return LoopbackDevice


def test_virtual_camera_publishes_to_the_fer_cam_device(loopback_driver, caplog):
    """DRIVER MOCK: the frames sent reach pyvirtualcam's v4l2loopback backend, on the "FER Cam" device, as sent."""
    sink = open_sink("vcam", SIZE, 30)
    assert "no virtual camera is named" not in caplog.text
    assert isinstance(sink, VirtualCameraSink)
    frames = _frames(3)
    assert all(sink.send(f) for f in frames)
    sink.close()
    [device] = loopback_driver.opened
    assert device._device == "/dev/video7"  # the device whose card_label is "FER Cam"
    assert (device.width, device.height, device.fps) == (*SIZE, 30)
    assert device.closed and len(device.frames) == 3 + round(STOPPED_CARD_S * 30)  # the stopped card after them
    np.testing.assert_array_equal(device.frames[2].reshape(SIZE[1], SIZE[0], 3), frames[2])  # RGB as sent


def test_without_a_fer_cam_device_the_first_loopback_is_used(loopback_driver, tmp_path, caplog):
    """DRIVER MOCK: no device is labelled "FER Cam": pyvirtualcam picks the first loopback, and a warning says where
    the README tells how to name one."""
    (tmp_path / "video7" / "name").write_text("Dummy video device\n")
    sink = open_sink("vcam", SIZE, 30)
    sink.close()
    assert loopback_driver.opened[0]._device is None
    assert "no virtual camera is named 'FER Cam'" in caplog.text
    assert 'README, "Virtual camera" under Set-up' in caplog.text  # the warning points to the section, which is there
    readme = (REPO / "README.md").read_text()
    assert readme.index("\n### Virtual camera\n") > readme.index("\n## Set-up\n")
