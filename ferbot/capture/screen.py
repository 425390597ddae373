"""Screen capture with mss: a whole monitor or a region of the virtual screen."""

from __future__ import annotations

import logging
import os
import sys

import cv2
import mss
import numpy as np

from ferbot.capture.base import Frame, SourceClock, SourceError
from ferbot.geometry import Rect

log = logging.getLogger(__name__)


class ScreenSource:
    """Grabs a monitor (numbered as mss does: 1, 2, ...; 0 = all monitors together; None = the primary one)
    or a region of the whole screen."""

    def __init__(self, monitor: int | None = None, region: Rect | None = None):
        _check_display()
        try:
            self._mss = mss.MSS()
        except Exception as err:  # mss raises ScreenShotError and, without X, plain OSErrors
            raise SourceError(f"cannot open display {os.environ.get('DISPLAY', '')!r} for capture "
                              f"({_first_line(err)}); check DISPLAY and that your desktop session is running, "
                              "or use --demo or --source FILE") from None
        monitors = self._mss.monitors
        if monitor is None:
            monitor = next((i for i, m in enumerate(monitors[1:], 1) if m.get("is_primary")), 1)
        if not 0 <= monitor < len(monitors):
            self._mss.close()
            raise SourceError(f"monitor {monitor} does not exist: this screen has monitors 1..{len(monitors) - 1} "
                              "(0 = all of them together); pick one with --monitor N")
        area = monitors[monitor]
        if region is not None:
            area = _region_inside(region, monitors[0])
        self.area = {key: int(area[key]) for key in ("left", "top", "width", "height")}
        self._clock = SourceClock()
        self._index = 0
        log.info("capturing the screen: %dx%d at (%d, %d)", self.area["width"], self.area["height"],
                 self.area["left"], self.area["top"])

    def read(self) -> Frame:
        """The screen as it is now."""
        try:
            shot = self._mss.grab(self.area)
        except Exception as err:  # the X server went away, the monitor was unplugged, ...
            raise SourceError(f"lost the screen ({_first_line(err)}); start ferbot again") from None
        image = cv2.cvtColor(np.asarray(shot), cv2.COLOR_BGRA2RGB)
        frame = Frame(image, self._clock.now(), self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        self._mss.close()


def _check_display() -> None:
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SourceError("no display to capture: DISPLAY is not set; run ferbot inside your desktop session "
                          "(or set DISPLAY), or use --demo or --source FILE")


def _region_inside(region: Rect, screen: dict) -> dict:
    inside = (region.w > 0 and region.h > 0 and region.x >= screen["left"] and region.y >= screen["top"]
              and region.x2 <= screen["left"] + screen["width"] and region.y2 <= screen["top"] + screen["height"])
    if not inside:
        raise SourceError(f"--region {','.join(str(int(v)) for v in region)} is not inside the screen "
                          f"({screen['width']}x{screen['height']} at {screen['left']},{screen['top']}); "
                          "give x,y,w,h inside it")
    return {"left": region.x, "top": region.y, "width": region.w, "height": region.h}


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
