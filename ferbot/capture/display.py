"""The display as mss sees it, shared by the screen and the window sources: one connection, opened again to read the
screen's layout (mss reads it once per connection), and grabs that try once more before they give up."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable

import cv2
import mss
import numpy as np

from ferbot.capture.base import SourceError
from ferbot.console import first_line

log = logging.getLogger(__name__)

WAYLAND_WARNING = ("this is a Wayland session: screen capture sees only X11 (XWayland) windows, so a meeting app "
                   "running natively on Wayland stays black or missing; run the meeting app under XWayland (Zoom: "
                   "QT_QPA_PLATFORM=xcb; Chrome: --ozone-platform=x11), or log in to an X11 session ('on Xorg') "
                   "where your desktop offers one")


# Windows' DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2 (Windows 10 1703 on) and, before it, PROCESS_PER_MONITOR_DPI_AWARE
PER_MONITOR_AWARE_V2 = -4
PER_MONITOR_AWARE = 2


def make_dpi_aware() -> None:
    """On Windows, make the process per-monitor DPI aware, so that the screen, window boxes and the preview window
    are all in physical pixels whichever comes first: mss makes the process per-monitor aware as it connects,
    pywinctl system aware as it is imported (and --demo or --source FILE open the preview window before either).
    A refusal is left be: a process's awareness is set once (an earlier call, or the Python executable's manifest)."""
    if sys.platform != "win32":
        return
    import ctypes

    try:
        ctypes.windll.user32.SetProcessDpiAwarenessContext(ctypes.c_void_p(PER_MONITOR_AWARE_V2))
    except AttributeError:  # Windows 8.1, or 10 before its 1703 update
        ctypes.windll.shcore.SetProcessDpiAwareness(PER_MONITOR_AWARE)


class Display:
    """A connection to the display for grabbing its pixels; SourceError, saying what to do, where there is none."""

    def __init__(self):
        check_display()
        try:
            self._mss = mss.MSS()
        except Exception as err:  # mss raises ScreenShotError and, without X, plain OSErrors
            raise SourceError(f"cannot open display {os.environ.get('DISPLAY', '')!r} for capture "
                              f"({first_line(err)}); check DISPLAY and that your desktop session is running, "
                              "or use --demo or --source FILE") from None

    @property
    def monitors(self) -> list[dict]:
        """mss's monitors as this connection read them: 0 is the whole virtual screen, 1, 2, ... each monitor."""
        return self._mss.monitors

    def reopen(self) -> list[dict]:
        """Connect again and return the monitors as they are now; SourceError when the display is gone. The new
        connection opens before the old one closes: an X server whose last client leaves resets itself (Xvfb does,
        unless told not to), and a connection made during the reset fails."""
        try:
            fresh = mss.MSS()
        except Exception as err:
            raise SourceError(f"lost the display ({first_line(err)}); start ferbot again once your desktop session "
                              "is running") from None
        self.close()
        self._mss = fresh
        return self._mss.monitors

    def grab(self, area: dict) -> np.ndarray:
        """The RGB pixels of `area` (mss's left, top, width, height), one for each unit of the area: a grab of
        another size (a Retina Mac's, 2 pixels a point, where mss is set to grab so) is resized to it, so that
        boxes and --exclude stay in the area's units; mss's error where the area is not on the screen."""
        image = cv2.cvtColor(np.asarray(self._mss.grab(area)), cv2.COLOR_BGRA2RGB)
        size = (area["width"], area["height"])
        if image.shape[1::-1] != size:
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        return image

    def grab_again_after(self, area: dict, follow: Callable[[], dict | None], lost: str) -> np.ndarray | None:
        """grab(area); where that fails (the screen may have shrunk under it), `follow()` reads the screen again and
        returns the area to grab now (None: nothing on the screen to grab, returned as is), and a second failure
        is a SourceError that `lost` (what was being captured) is lost."""
        try:
            return self.grab(area)
        except Exception:
            area = follow()
        if area is None:
            return None
        try:
            return self.grab(area)
        except Exception as err:  # the X server went away, the monitor was unplugged, ...
            raise SourceError(f"lost {lost} ({first_line(err)}); start ferbot again") from None

    def close(self) -> None:
        """Let go of the connection; quietly where the display has gone (mss then raises as it disconnects), so that
        the run still ends cleanly, its log flushed and its report written."""
        with contextlib.suppress(Exception):
            self._mss.close()


def wayland_session() -> bool:
    """Whether this is a Linux Wayland desktop session (where mss reaches only XWayland's windows)."""
    return sys.platform.startswith("linux") and (os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
                                                 or bool(os.environ.get("WAYLAND_DISPLAY")))


def require_display() -> None:
    """SourceError where there is no display at all to capture (Linux without DISPLAY or WAYLAND_DISPLAY)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SourceError("no display to capture: DISPLAY is not set; run ferbot inside your desktop session "
                          "(or set DISPLAY), or use --demo or --source FILE")


def check_display() -> None:
    """Before a screen or window capture: require_display, and a warning on Wayland."""
    require_display()
    if wayland_session():
        log.warning(WAYLAND_WARNING)
