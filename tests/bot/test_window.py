"""`--window TITLE`: the meeting app's window on a real X screen (Xvfb with a window manager, openbox), captured
wherever it is moved, with boxes in the window's own pixels; a missing window lists the windows it sees, a window
that closes ends the run like a lost screen, one minimised as ferbot starts is waited for, one on another desktop or
hidden keeps its last picture, of several matches a shown one is captured, a window over it is blacked out, and on
a Wayland session the windows are still XWayland's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from ferbot.capture.screen import RECHECK_S
from ferbot.geometry import Rect
from ferbot.render import Renderer
from ferbot.render.compose import NOTICE_BACKGROUND
from tests.helpers.cli import analysed_frames, env_with, ferbot, finished, lines_until, one_error_line, started_ferbot
from tests.helpers.data import read_video, save_rgb
from tests.helpers.faces import matches, side_by_side
from tests.helpers.logs import log_rows, row_box, rows_written
from tests.helpers.requires import need_program, need_tkinter
from tests.helpers.runs import came_true
from tests.helpers.xserver import desktop, kill_x_server, resized_while_running, window_manager_running

VIEWER = Path(__file__).resolve().parents[1] / "helpers" / "titled_window.py"
TITLE = "Zoom Meeting - Gallery"
STEADY_S = 6  # seconds the window stays in each place while ferbot runs
# Seconds a new Tk window may take to be listed by the window manager (each look starts a Python process that
# imports pywinctl), and how many windows are opened before the test fails: on the 2-core CI machine a window once
# went unlisted for 30 s, and once for 90 s, beside windows that were listed in seconds.
LISTED_WITHIN_S = 45
WINDOW_ATTEMPTS = 3
PHOTOS = ("codait_luciano.jpg", "mpl_grace_hopper.jpg", "singnet_model_face.jpg")  # all found at this size
# Another app's window ("Inbox - Mail") with two other people, whose faces lie nowhere near the meeting's three
OTHERS = ("singnet_woman_portrait.jpg", "codait_bryan.png")
MAIL = "Inbox - Mail"
HIDDEN = "minimised, on another desktop or hidden"


class TitledWindow:
    """The running test window (titled_window.py): moved and closed through its control folder, sent to another
    desktop as a pager does (xdotool)."""

    def __init__(self, viewer: subprocess.Popen, control: Path, display: str, title: str):
        self.viewer, self.control, self.display, self.title = viewer, control, display, title

    def move(self, x: int, y: int) -> None:
        self._tell("move", f"{x} {y}")

    def minimise(self) -> None:
        self._tell("minimise", "")

    def withdraw(self) -> None:
        self._tell("withdraw", "")

    def restore(self) -> None:
        self._tell("restore", "")

    def to_desktop(self, number: int) -> None:
        """Put the window on desktop `number` (0: the one shown), as the user does from its title bar's menu."""
        need_program("xdotool", package="xdotool")
        subprocess.run(["xdotool", "search", "--name", f"^{re.escape(self.title)}$", "set_desktop_for_window", "%@",
                        str(number)], env={**os.environ, "DISPLAY": self.display}, check=True, timeout=60)

    def close(self) -> None:
        self._tell("close", "")
        self.viewer.wait(timeout=10)

    def _tell(self, order: str, text: str) -> None:
        draft = self.control / f"{order}.draft"
        draft.write_text(text)
        draft.rename(self.control / order)  # whole, never half-written, when the window reads it


@contextmanager
def titled_window(display: str, picture, folder: Path, x: int, y: int, title: str = TITLE) -> Iterator[TitledWindow]:
    """A Tk window titled `title` at (x, y) showing `picture` (RGB) as video: it and a slightly brighter copy in
    turn, as a webcam's picture flickers, so its faces are people rather than still pictures; yields once the
    window manager lists it. A window that is not listed in time is closed and opened again (twice at most)."""
    need_tkinter("the test window")
    frames = []
    for index, frame in enumerate((picture, cv2.add(picture, 8))):
        frames.append(save_rgb(folder / f"window-{index}.png", frame))
    env = {**os.environ, "DISPLAY": display}
    command = [sys.executable, str(VIEWER), title, str(x), str(y), str(folder), *map(str, frames)]
    for attempt in range(1, WINDOW_ATTEMPTS + 1):
        viewer = subprocess.Popen(command, env=env)
        try:
            if _listed_in_time(display, title, viewer, last_attempt=attempt == WINDOW_ATTEMPTS):
                yield TitledWindow(viewer, folder, display, title)
                return
        finally:
            viewer.terminate()
            viewer.wait(timeout=10)


def _listed_in_time(display: str, title: str, viewer: subprocess.Popen, last_attempt: bool) -> bool:
    """Whether the window manager lists a window titled `title` within LISTED_WITHIN_S; a failed test if the
    window exits first, or if it is not listed on the `last_attempt`."""
    deadline = time.monotonic() + LISTED_WITHIN_S
    while title not in (listed := _titles(display)):
        if viewer.poll() is not None:
            pytest.fail(f"the test window exited (status {viewer.returncode}) before it was listed")
        if time.monotonic() > deadline:
            if last_attempt:
                pytest.fail(f"the test window was not listed within {LISTED_WITHIN_S} s, {WINDOW_ATTEMPTS} times; "
                            f"listed: {listed!r}; window manager running: {window_manager_running(display)}")
            return False
        time.sleep(0.3)
    return True


def _titles(display: str) -> str:
    return subprocess.run([sys.executable, "-c", "import pywinctl; print(pywinctl.getAllTitles())"],
                          env={**os.environ, "DISPLAY": display}, capture_output=True, text=True).stdout


def _shown_titles(display: str) -> str:
    """The titles of the windows shown (mapped, not minimised), as pywinctl tells."""
    return subprocess.run([sys.executable, "-c", "import pywinctl; print([w.title for w in pywinctl.getAllWindows() "
                           "if w.isVisible and not w.isMinimized])"],
                          env={**os.environ, "DISPLAY": display}, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def picture():
    """Three photographs side by side (as a meeting window's gallery) and their faces, in its pixels."""
    return side_by_side(PHOTOS, height=300)


@pytest.mark.slow
@pytest.mark.display
def test_the_window_is_followed_when_it_moves_and_its_closing_ends_the_run(picture, tmp_path):
    image, truth = picture
    log = tmp_path / "faces.csv"
    with desktop() as display, titled_window(display, image, tmp_path, 40, 30) as window:
        bot, before = started_ferbot("--window", "zoom meeting", "--sink", "none", "--log", str(log), "--no-report",
                                     "--analysis-rate", "4", "--duration", "60", env=env_with(DISPLAY=display))
        time.sleep(STEADY_S)
        window.move(-90, 330)  # the left edge off the screen
        after = lines_until(bot, "moved to (")  # ferbot followed it
        time.sleep(STEADY_S)
        window.close()
        result = finished(bot, before + after)
    # the window closed: the run ended as a lost screen does, the log flushed
    assert result.returncode == 1
    assert "has closed" in one_error_line(result)
    assert f"capturing the window {TITLE!r}" in result.stderr
    by_frame: dict[int, list[Rect]] = {}
    times: dict[int, float] = {}
    for row in log_rows(log):
        by_frame.setdefault(int(row["frame"]), []).append(row_box(row))
        times[int(row["frame"])] = float(row["time_s"])
    # boxes are in the window's pixels before and after the move alike: they match the picture's own faces
    # (moved to x = -90, the window's left edge is off the screen: that part is black, the boxes stay in place), in
    # frames throughout the run, on both sides of the move (at STEADY_S of 2 * STEADY_S). A few analysed frames may
    # miss faces (a frame without any has no rows): the last, which may catch the window as it closes, one at the
    # move, grabbed at the old place before ferbot looks at the window again (every FOLLOW_S), and now and then one
    # caught as the test window repaints beside a busy machine. Had ferbot not followed the window, every frame
    # after the move would miss them.
    found = {frame: sum(any(matches(b, t) for b in boxes) for t in truth) for frame, boxes in by_frame.items()}
    summary = ", ".join(f"{times[f]:.1f} s: {n}" for f, n in found.items()) + f"\n{result.stderr}"
    analysed = analysed_frames(result.stderr)
    whole = [times[frame] for frame, n in found.items() if n == len(truth)]
    assert analysed - len(whole) <= 2 + analysed // 20, f"faces found per frame: {summary}"
    assert max(whole) - min(whole) >= 1.5 * STEADY_S, f"faces found per frame: {summary}"


@pytest.mark.slow
@pytest.mark.display
def test_a_screen_that_changes_size_under_the_window_is_followed(picture, tmp_path):
    """The screen goes from 1920x1080 to 1024x768, cutting the window (at x=500, 756 wide) after its second face,
    then back: the bot goes on with the window's part left on the screen, and sees its third face again once the
    screen has grown."""
    image, truth = picture
    log = tmp_path / "faces.csv"
    with desktop((1920, 1080)) as display, titled_window(display, image, tmp_path, 500, 30):
        result, (shrunk, grown) = resized_while_running(
            display, [(1024, 768), (1920, 1080)], "--window", "zoom meeting", "--sink", "none", "--log", str(log),
            "--no-report", "--analysis-rate", "2", "--duration", "18", every_s=5)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "the screen is now 1024x768" in result.stderr and "the screen is now 1920x1080" in result.stderr
    rows = [(float(row["time_s"]), row_box(row)) for row in log_rows(log)]
    while_shrunk = [box for time_s, box in rows if shrunk + 1 < time_s < grown - 0.5]  # the two clocks differ a little
    assert while_shrunk and not any(matches(box, truth[2]) for box in while_shrunk), result.stderr
    after_growing = [box for time_s, box in rows if time_s > grown + RECHECK_S + 1]
    assert any(matches(box, truth[2]) for box in after_growing), result.stderr


@pytest.mark.slow
@pytest.mark.display
def test_a_window_minimised_as_ferbot_starts_is_waited_for(picture, tmp_path):
    """The meeting's window is minimised just after ferbot found it, before its first picture: the run goes on (a
    black picture of the window's size on the feed) and captures the window again once it is shown."""
    image, _ = picture
    log = tmp_path / "faces.csv"
    with desktop() as display, titled_window(display, image, tmp_path, 40, 30) as window:
        bot, logged = started_ferbot("--window", "zoom meeting", "--sink", "none", "--log", str(log), "--no-report",
                                     "--analysis-rate", "4", "--duration", "12", env=env_with(DISPLAY=display),
                                     until="capturing the window")
        window.minimise()  # while ferbot loads its classifier, seconds before the first picture
        logged += lines_until(bot, "first output frame sent")
        fed = time.monotonic()
        time.sleep(3)
        window.restore()
        restored = time.monotonic() - fed
        result = finished(bot, logged)
    assert result.returncode == 0, result.stderr
    assert f"is {HIDDEN}" in result.stderr
    assert any(float(row["time_s"]) > restored for row in log_rows(log)), result.stderr  # its faces, once back


@pytest.mark.slow
@pytest.mark.display
@pytest.mark.parametrize("hide", ["to another desktop", "withdrawn by its app"])
def test_a_window_on_another_desktop_or_hidden_keeps_its_last_picture(picture, tmp_path, hide):
    """Under the meeting's window lies a mail app's, with two other people. The meeting's window is put on another
    desktop, or its app hides it (neither minimises it): the feed keeps the meeting's last picture, never grabbing
    the mail window at its place (whose faces would be analysed and logged as students), and the meeting is
    captured again once its window is back. The feed, which held the last picture and labels as if live, says from
    HELD_S after the window went that the analysis is paused, until it is back."""
    image, truth = picture
    mail, strangers = side_by_side(OTHERS, height=300)
    log, feed = tmp_path / "faces.csv", tmp_path / "feed.avi"
    (tmp_path / "mail").mkdir()
    (tmp_path / "meeting").mkdir()
    with desktop() as display, titled_window(display, mail, tmp_path / "mail", 40, 30, MAIL), \
            titled_window(display, image, tmp_path / "meeting", 40, 30) as window:
        bot, logged = started_ferbot("--window", "zoom meeting", "--sink", f"file:{feed}", "--log", str(log),
                                     "--no-report", "--analysis-rate", "4", "--duration", "20",
                                     env=env_with(DISPLAY=display))
        started = time.monotonic()
        time.sleep(3)
        if hide == "withdrawn by its app":
            window.withdraw()
        else:
            window.to_desktop(1)
        time.sleep(STEADY_S)
        if hide == "withdrawn by its app":
            window.restore()
        else:
            window.to_desktop(0)
        back = time.monotonic() - started
        result = finished(bot, logged)
    assert result.returncode == 0, result.stderr
    rows = [(float(row["time_s"]), row_box(row)) for row in log_rows(log)]
    grabbed = [(time_s, box) for time_s, box in rows if any(matches(box, face) for face in strangers)]
    assert not grabbed, f"the mail window's faces were logged: {grabbed}\n{result.stderr}"
    assert any(time_s > back + 1 and matches(box, truth[0]) for time_s, box in rows), result.stderr
    assert f"the window {TITLE!r} is {HIDDEN}: showing its last picture" in result.stderr
    assert f"the window {TITLE!r} is shown again" in result.stderr
    frames, fps = read_video(feed)
    paused = [_notice_share(frame) for frame in frames]
    assert max(paused[:round(2 * fps)]) < 0.05 and max(paused[-round(3 * fps):]) < 0.05  # at first, and once back
    assert sum(share > 0.2 for share in paused) > fps, paused[::10]  # a second or more (hidden 6 s, said from 3 s)


def _notice_share(frame: np.ndarray) -> float:
    """The share of the band where the feed's notice goes (the screen area's top, below its margin: the no-face
    notice's test) in the notice's dark box colour, up to the video's compression (about a third of it with this
    notice on a 1280x720 feed, none without)."""
    x, y, w, _ = Renderer((frame.shape[1], frame.shape[0])).layout.screen_area.as_int()
    band = frame[y + 8:y + 40, x:x + w].astype(int)
    return float(np.mean(np.all(np.abs(band - NOTICE_BACKGROUND) <= 12, axis=2)))


@pytest.mark.display
@pytest.mark.parametrize("hide", ["minimised", "on another desktop"])
def test_of_several_matching_windows_a_shown_one_is_captured(picture, tmp_path, hide):
    """`--window zoom` matches the meeting's window and a larger "Zoom Workplace" one, minimised or on another
    desktop: the meeting's is captured, not the larger one refused or grabbed at its place; with the meeting's
    minimised too, the one line refusing them names both."""
    image, _ = picture
    (tmp_path / "meeting").mkdir()
    (tmp_path / "workplace").mkdir()
    with desktop() as display, titled_window(display, image, tmp_path / "meeting", 40, 30) as meeting, \
            titled_window(display, cv2.resize(image, None, fx=1.4, fy=1.4), tmp_path / "workplace", 100, 250,
                          "Zoom Workplace") as workplace:
        if hide == "minimised":
            workplace.minimise()
        else:
            workplace.to_desktop(1)
        assert came_true(lambda: "Zoom Workplace" not in _shown_titles(display), timeout=30, every_s=0.3)
        captured = ferbot("--window", "zoom", "--sink", "none", "--duration", "2", env=env_with(DISPLAY=display))
        meeting.minimise()
        assert came_true(lambda: TITLE not in _shown_titles(display), timeout=30, every_s=0.3)
        refused = ferbot("--window", "zoom", "--sink", "none", "--duration", "2", env=env_with(DISPLAY=display))
    assert captured.returncode == 0, captured.stderr
    assert f"capturing the window {TITLE!r}" in captured.stderr
    assert refused.returncode == 1
    line = one_error_line(refused)
    assert HIDDEN in line and repr(TITLE) in line and "'Zoom Workplace'" in line


@pytest.mark.slow
@pytest.mark.display
def test_a_window_over_the_meeting_is_black_on_the_feed(picture, tmp_path):
    """A mail window, with two people of its own, lies over the right of the meeting's window (its second and third
    students): that part is black, so no face there is analysed or logged (the mail's, which would be logged as
    students, nor the students' under it) until the mail window is moved off the meeting's; a line says each."""
    image, truth = picture
    mail, _ = side_by_side(OTHERS, height=300)
    log = tmp_path / "faces.csv"
    (tmp_path / "mail").mkdir()
    (tmp_path / "meeting").mkdir()
    with desktop() as display, titled_window(display, image, tmp_path / "meeting", 40, 30), \
            titled_window(display, mail, tmp_path / "mail", 300, 40, MAIL) as over:
        bot, logged = started_ferbot("--window", "zoom meeting", "--sink", "none", "--log", str(log), "--no-report",
                                     "--analysis-rate", "4", "--duration", "16", env=env_with(DISPLAY=display))
        started = time.monotonic()
        time.sleep(STEADY_S)
        over.move(300, 400)  # below the meeting's window (which ends at y = 350)
        moved = time.monotonic() - started
        result = finished(bot, logged)
    assert result.returncode == 0, result.stderr
    rows = [(float(row["time_s"]), row_box(row)) for row in log_rows(log)]
    # the mail window's frame begins 260 pixels into the meeting's window: no face is logged right of that
    covered = [box for time_s, box in rows if time_s < moved - 0.5]
    assert covered and all(box.center[0] < 250 for box in covered), f"{covered}\n{result.stderr}"
    assert any(matches(box, truth[0]) for box in covered), result.stderr
    assert any(time_s > moved + 1.5 and matches(box, truth[2]) for time_s, box in rows), result.stderr
    assert f"the window {TITLE!r} is covered by {MAIL!r}" in result.stderr
    assert f"the window {TITLE!r} is no longer covered" in result.stderr


@pytest.mark.slow
@pytest.mark.display
def test_losing_the_x_server_says_the_display_is_lost_not_that_the_window_closed(picture, tmp_path):
    image, _ = picture
    log = tmp_path / "faces.csv"
    with desktop() as display, titled_window(display, image, tmp_path, 40, 30):
        bot, logged = started_ferbot("--window", "zoom meeting", "--sink", "none", "--log", str(log),
                                     "--analysis-rate", "4", "--duration", "60", env=env_with(DISPLAY=display))
        assert came_true(lambda: rows_written(log) >= 3, timeout=60), "no faces logged within a minute"
        kill_x_server(display)
        result = finished(bot, logged)
    assert result.returncode == 1, result.stderr
    line = one_error_line(result)
    assert "lost the display" in line and "has closed" not in line
    assert (tmp_path / "faces-report.html").exists()  # written before the error line, as for a lost screen


@pytest.mark.display
def test_a_wayland_session_finds_the_meeting_run_under_xwayland(picture, tmp_path):
    """XDG_SESSION_TYPE=wayland beside an X display (XWayland's): the windows are still X11's, listed by the window
    manager, not asked of GNOME Shell over D-Bus (which pywinctl does on Wayland, and which fails here: no session
    bus, as on KDE, or GNOME without its unsafe mode)."""
    image, _ = picture
    with desktop() as display, titled_window(display, image, tmp_path, 40, 30):
        result = ferbot("--window", "zoom meeting", "--sink", "none", "--duration", "2",
                        env=env_with(DISPLAY=display, XDG_SESSION_TYPE="wayland", WAYLAND_DISPLAY="wayland-0",
                                     DBUS_SESSION_BUS_ADDRESS="unix:path=/nonexistent"))
    assert result.returncode == 0, result.stderr
    assert f"capturing the window {TITLE!r}" in result.stderr and "this is a Wayland session" in result.stderr


SHARP_GRAB_CHILD = """
import sys
import time
import cv2
import mss
import numpy as np
import pywinctl
from ferbot.capture.window import WindowSource

title, frames = sys.argv[1:]
deadline = time.monotonic() + 30
while pywinctl.getWindowsWithTitle(title)[0].left >= 0 and time.monotonic() < deadline:  # until moved off the edge
    time.sleep(0.1)
source = WindowSource(title)
as_grabbed = source.read().image
grab = mss.MSS.grab
mss.MSS.grab = lambda screen, area: cv2.resize(np.asarray(grab(screen, area)), None, fx=2, fy=2,
                                               interpolation=cv2.INTER_NEAREST)
as_retina = source.read().image
source.close()
np.save(frames, np.stack([as_grabbed, as_retina]))
"""


@pytest.mark.display
def test_a_grab_of_twice_the_windows_size_keeps_its_frames_in_the_windows_pixels(picture, tmp_path):
    """Stand-in at mss's grab result only: the real X screen's grab of the window, doubled, as a Retina Mac's is
    where mss is set to grab 2 pixels a point (mss.darwin.IMAGE_OPTIONS = 0). With the window's left edge off the
    screen, ferbot pastes the grab at its place in the window, where the doubled one did not fit (numpy's
    ValueError, a traceback). Its frames are now the window's size, the picture where the plain grab has it."""
    image, _ = picture
    with desktop() as display, titled_window(display, image, tmp_path, 40, 30) as window:
        window.move(-90, 330)
        child = subprocess.run([sys.executable, "-c", SHARP_GRAB_CHILD, TITLE, str(tmp_path / "frames.npy")],
                               env=env_with(DISPLAY=display), capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-2000:]
    for frame in np.load(tmp_path / "frames.npy"):  # as grabbed, and doubled
        assert frame.shape == image.shape
        assert not frame[:, :80].any()  # off the screen: black (openbox puts the window at x=-89)
        assert np.abs(frame[:, 90:].astype(int) - image[:, 90:]).mean() < 9  # the picture or its copy 8 brighter


@pytest.mark.parametrize("display", [{"DISPLAY": ":4999"}, {"DISPLAY": None, "WAYLAND_DISPLAY": "wayland-0"}],
                         ids=["gone", "wayland only"])
def test_a_display_that_cannot_be_captured_gets_the_screen_captures_advice(display):
    """A display that is gone, or Wayland without XWayland: --window says what --monitor says (check DISPLAY), not
    to use --monitor, which fails the same way."""
    window = ferbot("--window", "zoom", "--sink", "none", env=env_with(**display))
    screen = ferbot("--monitor", "1", "--sink", "none", env=env_with(**display))
    assert window.returncode == screen.returncode == 1
    assert one_error_line(window) == one_error_line(screen) and "check DISPLAY" in one_error_line(window)


@pytest.mark.display
def test_no_matching_window_lists_the_windows_it_sees(picture, tmp_path):
    image, _ = picture
    with desktop() as display, titled_window(display, image, tmp_path, 40, 30):
        result = ferbot("--window", "Teams", "--sink", "none", env=env_with(DISPLAY=display))
    assert result.returncode == 1
    line = one_error_line(result)
    assert "no window's title contains 'Teams'" in line and repr(TITLE) in line


@pytest.mark.display
def test_the_terminal_that_shows_ferbots_own_command_is_not_the_meeting(picture, tmp_path):
    """A terminal whose title shows the running command ("... ferbot --window zoom meeting"), larger than the
    meeting's window, also contains TITLE: the meeting's window is the one captured."""
    image, _ = picture
    terminal = f"Command Prompt - ferbot --window {TITLE.split(' - ')[0].lower()}"
    (tmp_path / "meeting").mkdir()
    (tmp_path / "terminal").mkdir()
    with desktop() as display, titled_window(display, image, tmp_path / "meeting", 40, 30), \
            titled_window(display, cv2.resize(image, None, fx=1.4, fy=1.4), tmp_path / "terminal", 0, 0, terminal):
        result = ferbot("--window", "zoom meeting", "--sink", "none", "--duration", "2", env=env_with(DISPLAY=display))
    assert result.returncode == 0, result.stderr
    assert f"capturing the window {TITLE!r}" in result.stderr


@pytest.mark.parametrize("args", [["--window", "Zoom", "--demo"], ["--window", "Zoom", "--monitor", "2"],
                                  ["--window", " "]])
def test_window_mistakes_get_one_line(args):
    result = ferbot(*args)
    assert result.returncode == 2 and "--window" in one_error_line(result)


class _Dwmapi:
    """Stand-in for Windows' dwmapi (ctypes.windll.dwmapi), a boundary that cannot exist here: answers
    DwmGetWindowAttribute with `frame` (left, top, right, bottom), or with an error code where there is none."""

    def __init__(self, frame: tuple[int, int, int, int] | None):
        self.frame, self.asked = frame, []

    def DwmGetWindowAttribute(self, handle, attribute, rect, size):  # noqa: N802 (Windows' own name)
        self.asked.append((handle.value, attribute, size))
        if self.frame is None:
            return 0x80070006  # E_HANDLE
        rect._obj.left, rect._obj.top, rect._obj.right, rect._obj.bottom = self.frame
        return 0


class _MaximisedWindow:
    """pywinctl's view of a maximised window on Windows: GetWindowRect's box, 8 px of invisible border past the
    1920x1080 screen's edges on three sides."""

    box = SimpleNamespace(left=-8, top=-8, width=1936, height=1056)

    def getHandle(self) -> int:  # noqa: N802 (pywinctl's name)
        return 0x1234


@pytest.mark.parametrize("frame, box", [
    ((0, 0, 1920, 1040), (0, 0, 1920, 1040)),  # the window as drawn, above the taskbar
    (None, (-8, -8, 1936, 1056)),  # DWM does not say: pywinctl's box
], ids=["drawn frame", "no answer"])
def test_on_windows_a_windows_box_is_its_drawn_frame(monkeypatch, frame, box):
    """Stubbed at Windows' boundary only (ctypes.windll, and sys.platform to reach it). pywinctl's box of a window
    (GetWindowRect) includes an invisible resize border: a maximised window reached past the screen on three sides,
    so ferbot took it for partly off the screen and analysed a strip of whatever lay behind its edges."""
    import ctypes
    from ctypes import wintypes

    from ferbot.capture import window

    dwmapi = _Dwmapi(frame)
    monkeypatch.setattr(ctypes, "windll", type("Windll", (), {"dwmapi": dwmapi})(), raising=False)
    monkeypatch.setattr(sys, "platform", "win32")
    assert window._box(_MaximisedWindow()) == box
    assert dwmapi.asked == [(0x1234, window.DWMWA_EXTENDED_FRAME_BOUNDS, ctypes.sizeof(wintypes.RECT))]
    on_screen = window._on_screen(window._box(_MaximisedWindow()), {"left": 0, "top": 0, "width": 1920,
                                                                   "height": 1080})
    assert (on_screen == {"left": 0, "top": 0, "width": 1920, "height": 1040}) == (frame is not None)
