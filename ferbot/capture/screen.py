"""Screen capture with mss: a whole monitor or a region of the virtual screen."""

from __future__ import annotations

import logging
import os
import sys
import time

import cv2
import mss
import numpy as np

from ferbot.capture.base import Frame, LiveFrames, SourceError
from ferbot.geometry import Rect

log = logging.getLogger(__name__)

RECHECK_S = 2.0  # seconds between looks at the screen's layout (a few ms each)


class ScreenSource:
    """Grabs a monitor (numbered as mss does: 1, 2, ...; 0 = all monitors together; None = the primary one)
    or a region of the whole screen.

    The screen's layout is re-read every RECHECK_S seconds and whenever a grab fails, so the capture follows
    a change of resolution; a --region that no longer fits, or a monitor that is gone, ends the run.
    """

    def __init__(self, monitor: int | None = None, region: Rect | None = None):
        check_display()
        try:
            self._mss = mss.MSS()
        except Exception as err:  # mss raises ScreenShotError and, without X, plain OSErrors
            raise SourceError(f"cannot open display {os.environ.get('DISPLAY', '')!r} for capture "
                              f"({first_line(err)}); check DISPLAY and that your desktop session is running, "
                              "or use --demo or --source FILE") from None
        monitors = self._mss.monitors
        if monitor is None:
            monitor = next((i for i, m in enumerate(monitors[1:], 1) if m.get("is_primary")), 1)
        if not 0 <= monitor < len(monitors):
            self._mss.close()
            raise SourceError(f"monitor {monitor} does not exist: this screen has monitors 1..{len(monitors) - 1} "
                              "(0 = all of them together); pick one with --monitor N")
        if region is not None and not _inside(region, monitors[0]):
            self._mss.close()
            raise SourceError(f"--region {_text(region)} is not inside the screen ({_size(monitors[0])} at "
                              f"{monitors[0]['left']},{monitors[0]['top']}); give x,y,w,h inside it")
        self._monitor, self._region = monitor, region
        self.area = self._area(monitors)
        self._checked = time.monotonic()
        self._frames = LiveFrames()
        log.info("capturing the screen: %dx%d at (%d, %d)", self.area["width"], self.area["height"],
                 self.area["left"], self.area["top"])

    def read(self) -> Frame:
        """The screen as it is now."""
        if time.monotonic() - self._checked > RECHECK_S:
            self._follow_screen()
        try:
            shot = self._mss.grab(self.area)
        except Exception:  # the screen may have shrunk under the grab area: look again, then grab again
            self._follow_screen()
            try:
                shot = self._mss.grab(self.area)
            except Exception as err:  # the X server went away, the monitor was unplugged, ...
                raise SourceError(f"lost the screen ({first_line(err)}); start ferbot again") from None
        return self._frames.next(cv2.cvtColor(np.asarray(shot), cv2.COLOR_BGRA2RGB))

    def close(self) -> None:
        self._mss.close()

    def _follow_screen(self) -> None:
        """Re-read the monitors (mss reads them once per connection) and follow a change of the captured area."""
        self._checked = time.monotonic()
        self._mss, monitors = reconnect(self._mss)
        area = self._area(monitors)
        if area != self.area:
            self.area = area
            log.info("screen is now %s", _size(area))

    def _area(self, monitors: list[dict]) -> dict:
        """The grab area on a screen with these monitors; a SourceError when it no longer exists there."""
        if self._region is not None:
            if not _inside(self._region, monitors[0]):
                raise SourceError(f"the screen is now {_size(monitors[0])}: --region {_text(self._region)} no "
                                  "longer fits inside it; start ferbot again with a region inside the screen")
            area = {"left": self._region.x, "top": self._region.y, "width": self._region.w,
                    "height": self._region.h}
        elif self._monitor < len(monitors):
            area = monitors[self._monitor]
        else:
            raise SourceError(f"monitor {self._monitor} is gone: the screen now has monitors 1..{len(monitors) - 1}; "
                              "start ferbot again, with --monitor N if needed")
        return {key: int(area[key]) for key in ("left", "top", "width", "height")}


WAYLAND_WARNING = ("this is a Wayland session: screen capture sees only X11 (XWayland) windows, so a meeting app "
                   "running natively on Wayland stays black or missing; log in with an 'on Xorg' session, or run the "
                   "meeting app under XWayland (Zoom: QT_QPA_PLATFORM=xcb; Chrome: --ozone-platform=x11)")


def wayland_session() -> bool:
    """Whether this is a Linux Wayland desktop session (where mss reaches only XWayland's windows)."""
    return sys.platform.startswith("linux") and (os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
                                                 or bool(os.environ.get("WAYLAND_DISPLAY")))


def check_display() -> None:
    """Before a screen or window capture: SourceError where there is no display at all, a warning on Wayland."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SourceError("no display to capture: DISPLAY is not set; run ferbot inside your desktop session "
                          "(or set DISPLAY), or use --demo or --source FILE")
    if wayland_session():
        log.warning(WAYLAND_WARNING)


def _inside(region: Rect, screen: dict) -> bool:
    return (region.w > 0 and region.h > 0 and region.x >= screen["left"] and region.y >= screen["top"]
            and region.x2 <= screen["left"] + screen["width"] and region.y2 <= screen["top"] + screen["height"])


def _text(region: Rect) -> str:
    return ",".join(str(int(v)) for v in region)


def _size(area: dict) -> str:
    return f"{area['width']}x{area['height']}"


def reconnect(connection: mss.MSS) -> tuple[mss.MSS, list[dict]]:
    """A new connection to the display in place of `connection`, and the monitors as they are now (mss reads them
    once per connection); SourceError when the display is gone."""
    connection.close()
    try:
        fresh = mss.MSS()
        return fresh, fresh.monitors
    except Exception as err:
        raise SourceError(f"lost the screen ({first_line(err)}); start ferbot again") from None


def first_line(err: BaseException) -> str:
    """The first line of an error's message (the libraries' messages can run over many), or its type's name."""
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
