"""`--sink window`: a preview window on the desktop (OpenCV highgui). Close it, or press q or Esc, to stop."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import sys
from collections.abc import Mapping

import cv2
import mss
import numpy as np

from ferbot.sink.base import SinkError

WINDOW_TITLE = "FER Cam preview"
# Full key codes (cv2.waitKeyEx): Esc is 27, or X11's keysym 0xff1b with OpenCV's Qt backend on Linux. The low
# byte alone would take the arrows' keysyms for letters (Left, 0xff51, for "Q").
STOP_KEYS = {ord("q"), ord("Q"), 27, 0xFF1B}
# The window, resizable and keeping the feed's shape, without the toolbar of OpenCV's Qt windows, whose button saves
# the picture (students' faces) to a file
WINDOW_FLAGS = cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO | cv2.WINDOW_GUI_NORMAL
# The window opens at most this share of the primary monitor's width and height, leaving the rest to its title bar
# and the desktop's panels: a 720p feed opens at 1160x652 on a 1366x768 laptop, where it ran off the screen
SCREEN_SHARE = 0.85


class PreviewWindow:
    """Shows each frame, of `size`, in a window that fits the screen."""

    def __init__(self, size: tuple[int, int]):
        _check_display()
        try:
            cv2.namedWindow(WINDOW_TITLE, WINDOW_FLAGS)
        except cv2.error:
            raise SinkError("--sink window: this OpenCV has no window support (opencv-python-headless installed "
                            "over opencv-contrib-python?); run: pip install --force-reinstall --no-deps "
                            "opencv-contrib-python, or use --sink file:PATH or --sink none") from None
        cv2.resizeWindow(WINDOW_TITLE, *_fitted(size))

    def send(self, frame: np.ndarray) -> bool:
        """Show the frame; False once the window is closed, or q or Esc is pressed in it."""
        try:
            cv2.imshow(WINDOW_TITLE, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            key = cv2.waitKeyEx(1)
            return key not in STOP_KEYS and cv2.getWindowProperty(WINDOW_TITLE, cv2.WND_PROP_VISIBLE) >= 1
        except cv2.error:  # closed by its title bar's X, and OpenCV's Qt backend has let go of it ("NULL guiReceiver")
            return False

    def close(self) -> None:
        try:
            cv2.destroyWindow(WINDOW_TITLE)
        except cv2.error:  # closed by its title bar's X: Windows' OpenCV raises "NULL window" for it
            pass
        cv2.waitKey(1)


def _fitted(size: tuple[int, int]) -> tuple[int, int]:
    """`size`, made smaller with its shape kept to fit SCREEN_SHARE of the primary monitor, where the window opens
    (as it is where the monitor cannot be read), in the units cv2.resizeWindow takes: with OpenCV's Qt build, Qt's
    scaled pixels, qt_scale() screen pixels each."""
    try:
        with mss.MSS() as screen:
            monitor = screen.primary_monitor
    except (mss.ScreenShotError, OSError):
        return size
    if monitor["width"] <= 0 or monitor["height"] <= 0:
        return size
    units = qt_scale(monitor.get("output")) if cv2.currentUIFramework() == "QT" else 1.0
    width, height = monitor["width"] / units, monitor["height"] / units
    scale = min(1.0, SCREEN_SHARE * width / size[0], SCREEN_SHARE * height / size[1])
    return round(size[0] * scale), round(size[1] * scale)


def qt_scale(output: str | None, environ: Mapping[str, str] = os.environ) -> float:
    """Screen pixels per Qt pixel on the primary monitor, as Qt reads them from the environment: QT_SCALE_FACTOR
    times the monitor's entry in QT_SCREEN_SCALE_FACTORS, by its output's name (mss's "output", e.g. DP-0=2) or,
    for a bare number, by the place of the entry (Qt lists the primary monitor first: 2;1)."""
    monitor_factor = 1.0
    for place, entry in enumerate(environ.get("QT_SCREEN_SCALE_FACTORS", "").split(";")):
        name, named, factor = entry.rpartition("=")
        if (named and name == output) or (not named and place == 0):
            monitor_factor = _positive(factor) or monitor_factor
    return (_positive(environ.get("QT_SCALE_FACTOR", "")) or 1.0) * monitor_factor


def _positive(text: str) -> float | None:
    """The number `text` holds where it is a finite one above 0, as Qt takes a scale; else None."""
    if "_" in text:  # Python's digit groups: float reads "1_5" as 15, Qt not at all
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return number if 0 < number < math.inf else None


def _check_display() -> None:
    """On Linux, fail with a clear line instead of letting the GUI toolkit abort the process."""
    if not sys.platform.startswith("linux"):
        return
    if not os.environ.get("DISPLAY"):
        raise SinkError("--sink window needs a display: DISPLAY is not set; run inside your desktop session, "
                        "or use --sink file:PATH or --sink none")
    libx11 = ctypes.util.find_library("X11")
    if libx11 is None:
        return  # let OpenCV try; without libX11 there is no Qt/GTK window either
    xlib = ctypes.CDLL(libx11)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    display = xlib.XOpenDisplay(None)
    if not display:
        raise SinkError(f"--sink window: cannot open display {os.environ['DISPLAY']!r}; check DISPLAY, "
                        "or use --sink file:PATH or --sink none")
    xlib.XCloseDisplay(display)
