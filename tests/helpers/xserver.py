"""A real X screen for the bot's tests: Xvfb, a real X client showing a picture, and mss grabbing the screen."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers.data import save_rgb
from tests.helpers.requires import need_program, need_tkinter

SCREEN_SIZE = (1920, 1080)
MANAGER_READY_WITHIN_S = 60  # seconds openbox may take to take the screen
SERVERS: dict[str, subprocess.Popen] = {}  # the running Xvfb of each display xvfb() yields, for kill_x_server


@contextmanager
def xvfb(size: tuple[int, int] = SCREEN_SIZE, resets: bool = False) -> Iterator[str]:
    """A real X server (Xvfb) on a free display; yields the DISPLAY value, e.g. ':42'. With `resets`, it resets
    whenever its last client leaves, as Xvfb does unless told not to (xvfb-run starts it so)."""
    need_program("Xvfb", package="xvfb")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{size[0]}x{size[1]}x24",
                               "-nolisten", "tcp", *([] if resets else ["-noreset"])], pass_fds=(write_fd,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            pytest.fail("Xvfb did not start")
        SERVERS[f":{number}"] = server
        try:
            yield f":{number}"
        finally:
            del SERVERS[f":{number}"]
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def desktop(size=(1280, 720)) -> Iterator[str]:
    """Xvfb with a window manager (openbox): windows are listed (EWMH's _NET_CLIENT_LIST) as on a desktop. Yields
    once openbox has taken the screen (it announces itself on the root window)."""
    need_program("openbox", package="openbox")
    with xvfb(size) as display, tempfile.TemporaryFile() as complaints:
        manager = subprocess.Popen(["openbox", "--sm-disable"], env={**os.environ, "DISPLAY": display},
                                   stdout=subprocess.DEVNULL, stderr=complaints)
        try:
            deadline = time.monotonic() + MANAGER_READY_WITHIN_S
            while not window_manager_running(display):
                if manager.poll() is not None or time.monotonic() > deadline:
                    complaints.seek(0)
                    pytest.fail(f"openbox did not take the screen within {MANAGER_READY_WITHIN_S} s (status "
                                f"{manager.poll()}): {complaints.read().decode()[-500:]}")
                time.sleep(0.2)
            yield display
        finally:
            manager.terminate()
            manager.wait(timeout=10)


def kill_x_server(display: str) -> None:
    """The X server of `display` (from xvfb()) goes away, as when the desktop session ends."""
    server = SERVERS[display]
    server.terminate()
    server.wait(timeout=10)


def window_manager_running(display: str) -> bool:
    """Whether an EWMH window manager has announced itself on the display's root window."""
    from Xlib import X
    from Xlib import display as xlib

    connection = xlib.Display(display)
    try:
        root = connection.screen().root
        announced = root.get_full_property(connection.intern_atom("_NET_SUPPORTING_WM_CHECK"), X.AnyPropertyType)
        return announced is not None
    finally:
        connection.close()


def set_resolution(display: str, size: tuple[int, int]) -> None:
    """Change a running Xvfb's screen to size=(width, height), no larger than it started with, as a user
    changing resolution would (RandR, through xrandr)."""
    need_program("xrandr", package="x11-xserver-utils")
    mode = f"{size[0]}x{size[1]}"
    env = {**os.environ, "DISPLAY": display}
    xrandr = ["xrandr", "--output", "screen", "--mode", mode]
    if subprocess.run(xrandr, env=env, capture_output=True).returncode:  # a mode Xvfb does not have yet
        timings = [str(v) for v in (0, size[0], size[0], size[0], size[0], size[1], size[1], size[1], size[1])]
        for command in (["xrandr", "--newmode", mode, *timings], ["xrandr", "--addmode", "screen", mode], xrandr):
            subprocess.run(command, env=env, check=True, capture_output=True)


@contextmanager
def shown_on_screen(display: str, image: np.ndarray, folder: Path, *others: np.ndarray) -> Iterator[None]:
    """Show an RGB image at the top-left of the X screen with a real X client (a Tk window), until exit; with
    `others` (images of the same size), it and them in turn every 0.2 s, as video."""
    need_tkinter("the test screen's image viewer")
    paths = [folder / f"shown{i}.png" for i in range(1 + len(others))]
    for path, shown in zip(paths, (image, *others)):
        save_rgb(path, shown)
    env = {**os.environ, "DISPLAY": display}
    viewer = subprocess.Popen([sys.executable, str(Path(__file__).with_name("image_viewer.py")), *map(str, paths)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_shown(display, (image, *others), viewer)
        yield
    finally:
        viewer.terminate()
        viewer.wait(timeout=10)


def qt_on(display: str) -> dict[str, str]:
    """Environment for an OpenCV (Qt) window on an X display, without MIT-SHM (which on Xvfb leaves windows
    black more often)."""
    return {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "QT_X11_NO_MITSHM": "1"}


def grab_screen(display: str) -> np.ndarray:
    """The whole X screen as RGB, through mss like the bot."""
    import mss

    with mss.MSS(display=display) as screen:
        return cv2.cvtColor(np.asarray(screen.grab(screen.monitors[1])), cv2.COLOR_BGRA2RGB)


def _wait_until_shown(display: str, images: tuple[np.ndarray, ...], viewer: subprocess.Popen,
                      timeout: float = 90) -> None:
    """Wait until the screen's top-left shows one of `images`."""
    deadline = time.monotonic() + timeout
    height, width = images[0].shape[:2]
    difference = None
    while time.monotonic() < deadline:
        if viewer.poll() is not None:
            pytest.fail(f"the image viewer exited: {viewer.stderr.read().decode()[-500:]}")
        screen = grab_screen(display)[:height, :width].astype(np.int16)
        difference = min(np.abs(screen - image).mean() for image in images)
        if difference < 2:
            return
        time.sleep(0.2)
    pytest.fail(f"the image did not appear on the X screen (mean difference {difference})")


def resized_while_running(display: str, sizes: list[tuple[int, int]], *args: str,
                          every_s: float) -> tuple[subprocess.CompletedProcess, list[float]]:
    """`python -m ferbot ARGS` on `display`, its screen changed to each of `sizes` in turn, `every_s` seconds apart
    from the feed's start; the run's result and when each change came, in seconds after the feed began."""
    from tests.helpers.cli import env_with, finished, started_ferbot

    bot, logged = started_ferbot(*args, env=env_with(DISPLAY=display))
    started, changed = time.monotonic(), []
    for size in sizes:
        time.sleep(every_s)
        set_resolution(display, size)
        changed.append(time.monotonic() - started)
    return finished(bot, logged), changed
