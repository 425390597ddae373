"""Screen capture with mss: a whole monitor or a region of the virtual screen."""

from __future__ import annotations

import logging
import time

from ferbot.capture.base import MIN_SIDE, Frame, LiveFrames, SourceError
from ferbot.capture.display import Display
from ferbot.geometry import Rect

log = logging.getLogger(__name__)

RECHECK_S = 2.0  # seconds between looks at the screen's layout (a few ms each)


class ScreenSource:
    """Grabs a monitor (numbered as mss does: 1, 2, ...; 0 = all monitors together; None = the primary one)
    or a region of the whole screen.

    The screen's layout is re-read every RECHECK_S seconds and whenever a grab fails, so the capture follows
    a change of resolution, and the primary monitor wherever a new display puts it in the list; a --region that no
    longer fits, or a monitor that is gone, ends the run.
    """

    recorded = False

    def __init__(self, monitor: int | None = None, region: Rect | None = None):
        self._display = Display()
        monitors = self._display.monitors
        if monitor is not None and not 0 <= monitor < len(monitors):
            self._display.close()
            raise SourceError(f"monitor {monitor} does not exist: this screen has monitors 1..{len(monitors) - 1} "
                              "(0 = all of them together); pick one with --monitor N")
        if region is not None and min(region.w, region.h) < MIN_SIDE:
            self._display.close()
            raise SourceError(f"--region {_text(region)} is too small to hold a meeting's tile: give one at least "
                              f"{MIN_SIDE}x{MIN_SIDE} pixels")
        if region is not None and not _inside(region, monitors[0]):
            self._display.close()
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
        return self._frames.next(self._display.grab_again_after(self.area, self._follow_screen, "the screen"))

    def close(self) -> None:
        self._display.close()

    def _follow_screen(self) -> dict:
        """Re-read the monitors and follow a change of the captured area; the area to grab now."""
        self._checked = time.monotonic()
        area = self._area(self._display.reopen())
        if area != self.area:
            self.area = area
            log.info("the captured screen is now %s at (%d, %d)", _size(area), area["left"], area["top"])
        return self.area

    def _area(self, monitors: list[dict]) -> dict:
        """The grab area on a screen with these monitors; a SourceError when it no longer exists there."""
        if self._region is not None:
            if not _inside(self._region, monitors[0]):
                raise SourceError(f"the screen is now {_size(monitors[0])}: --region {_text(self._region)} no "
                                  "longer fits inside it; start ferbot again with a region inside the screen")
            area = {"left": self._region.x, "top": self._region.y, "width": self._region.w,
                    "height": self._region.h}
        elif self._monitor is None:
            area = monitors[_primary(monitors)]
        elif self._monitor < len(monitors):
            area = monitors[self._monitor]
        else:
            raise SourceError(f"monitor {self._monitor} is gone: the screen now has monitors 1..{len(monitors) - 1}; "
                              "start ferbot again, with --monitor N if needed")
        return {key: int(area[key]) for key in ("left", "top", "width", "height")}


def _primary(monitors: list[dict]) -> int:
    """mss's number of the primary monitor (the first one where mss does not say; 0, the whole screen, while it
    lists none: for a moment while a display is plugged in or out)."""
    return next((i for i, m in enumerate(monitors[1:], 1) if m.get("is_primary")), 1 if len(monitors) > 1 else 0)


def _inside(region: Rect, screen: dict) -> bool:
    return (region.w > 0 and region.h > 0 and region.x >= screen["left"] and region.y >= screen["top"]
            and region.x2 <= screen["left"] + screen["width"] and region.y2 <= screen["top"] + screen["height"])


def _text(region: Rect) -> str:
    return ",".join(str(int(v)) for v in region)


def _size(area: dict) -> str:
    return f"{area['width']}x{area['height']}"
