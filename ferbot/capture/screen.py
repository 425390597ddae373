"""Screen capture with mss: a whole monitor or a region of the virtual screen."""

from __future__ import annotations

import logging
import time

from ferbot.capture.base import MIN_SIDE, Frame, LiveFrames, SourceError
from ferbot.capture.display import Display
from ferbot.geometry import Rect

log = logging.getLogger(__name__)

RECHECK_S = 2.0  # seconds between looks at the screen's layout (a few ms each)
# A --monitor or --region gone from the screen (a cable reconnected, mirroring switched on or off, a resolution
# changed for a projector) is waited for this long, its last picture held, before the run ends
GONE_WAIT_S = 30.0


class ScreenSource:
    """Grabs a monitor (numbered as mss does: 1, 2, ...; 0 = all monitors together; None = the primary one)
    or a region of the whole screen.

    The screen's layout is re-read every RECHECK_S seconds and whenever a grab fails, so the capture follows
    a change of resolution, and the primary monitor wherever a new display puts it in the list. A --region that no
    longer fits, or a monitor that is gone, holds its last picture (the same frame, so it is not analysed again) until
    it is back, and ends the run after GONE_WAIT_S.
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
        self._gone_since: float | None = None  # when the captured area left the screen, while it is gone
        self._frames = LiveFrames()
        log.info("capturing the screen: %dx%d at (%d, %d)", self.area["width"], self.area["height"],
                 self.area["left"], self.area["top"])

    def read(self) -> Frame:
        """The screen as it is now; while the captured area is gone from it, the last picture again (a black one
        before the first)."""
        if time.monotonic() - self._checked > RECHECK_S:
            self._follow_screen()
        image = None
        if self._gone_since is None:
            image = self._display.grab_again_after(self.area, self._follow_screen, "the screen")
        if image is None:
            return self._frames.held((self.area["width"], self.area["height"]))
        return self._frames.next(image)

    def close(self) -> None:
        self._display.close()

    def _follow_screen(self) -> dict | None:
        """Re-read the monitors and follow a change of the captured area; the area to grab now, None while it is
        gone (a SourceError once it has been for GONE_WAIT_S)."""
        self._checked = now = time.monotonic()
        monitors = self._display.reopen()  # a SourceError of its own where the display itself is lost
        try:
            area = self._area(monitors)
        except SourceError:
            if self._gone_since is None:
                self._gone_since = now
                log.warning("%s is no longer on the screen: holding its last picture for up to %.0f s until it is "
                            "back", self._what(), GONE_WAIT_S)
            elif now - self._gone_since > GONE_WAIT_S:
                raise
            return None
        if self._gone_since is not None:
            self._gone_since = None
            log.info("%s is back on the screen", self._what())
        if area != self.area:
            self.area = area
            log.info("the captured screen is now %s at (%d, %d)", _size(area), area["left"], area["top"])
        return self.area

    def _what(self) -> str:
        """What is captured, for a message."""
        return f"--region {_text(self._region)}" if self._region is not None else f"monitor {self._monitor}"

    def _area(self, monitors: list[dict]) -> dict:
        """The grab area on a screen with these monitors; a SourceError when it no longer exists there."""
        if self._region is not None:
            if not _inside(self._region, monitors[0]):
                raise SourceError(f"the screen is now {_size(monitors[0])}: --region {_text(self._region)} has "
                                  f"not fitted inside it for {GONE_WAIT_S:.0f} s; start ferbot again with a region "
                                  "inside the screen")
            area = {"left": self._region.x, "top": self._region.y, "width": self._region.w,
                    "height": self._region.h}
        elif self._monitor is None:
            area = monitors[_primary(monitors)]
        elif self._monitor < len(monitors):
            area = monitors[self._monitor]
        else:
            listed = f"monitors 1..{len(monitors) - 1}" if len(monitors) > 1 else "no monitor listed"
            raise SourceError(f"monitor {self._monitor} has been gone for {GONE_WAIT_S:.0f} s: the screen now has "
                              f"{listed}; start ferbot again, with --monitor N if needed")
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
