"""`--window TITLE`: the meeting app's window, followed as it moves or resizes (pywinctl finds it; mss grabs it).

Frames are the window's own pixels, so every box (on the feed and in the log) is in the window's pixels wherever
the window is. pywinctl works the same on X11, Windows and macOS; on Linux the windows are those a window manager
manages (_NET_CLIENT_LIST), which every desktop has, XWayland's included on a Wayland desktop.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time

import numpy as np

from ferbot.capture.base import Frame, LiveFrames, SourceError
from ferbot.capture.display import Display
from ferbot.capture.screen import RECHECK_S
from ferbot.console import first_line

log = logging.getLogger(__name__)

FOLLOW_S = 0.2  # seconds between looks at the window's place and size (a few X round trips)
OWN_WINDOWS = ("FER Cam",)  # ferbot's own preview window is never the meeting
# nor the terminal ferbot runs in, where its title shows the command ("Command Prompt - ferbot --window Zoom")
OWN_COMMAND = "--window"
MAX_LISTED = 12


class WindowSource:
    """The window whose title contains `title` (case-insensitive): the largest such one, if several."""

    recorded = False

    def __init__(self, title: str):
        self._display = Display()  # first: no display, or one that is gone, gets the screen capture's advice
        try:
            self._window = self._find(_import_pywinctl(), title)
            self.name = self._window.title
            self._screen = self._display.monitors[0]
            self.area = self._area()
            if self.area is None:
                raise SourceError(f"the window {self.name!r} is minimised or off the screen; show it, then start "
                                  "ferbot")
        except BaseException:
            self._display.close()
            raise
        self._size = self._whole[2:]  # (width, height) as found, for a window minimised before its first picture
        self._checked = self._probed = time.monotonic()
        self._frames = LiveFrames()
        self._last: Frame | None = None
        log.info("capturing the window %r: %dx%d at (%d, %d)", self.name, self.area["width"], self.area["height"],
                 self.area["left"], self.area["top"])

    def read(self) -> Frame:
        """The window as it is now (a part off the screen is black); while it is minimised or wholly off the
        screen, the last picture again (a black one of its size before the first)."""
        if time.monotonic() - self._checked > FOLLOW_S:
            self._follow()
        if self.area is None:
            if self._last is None:  # minimised as ferbot started: black, as a window's parts off the screen are
                self._last = self._frames.next(np.zeros((self._size[1], self._size[0], 3), np.uint8))
            return self._last
        image = self._display.grab_again_after(self.area, self._follow_screen, f"the window {self.name!r}")
        if image is None:  # the screen shrank from under the whole window
            return self.read()
        if self._inside is not None:  # partly off the screen: keep the window's own pixel coordinates
            x, y, width, height = self._inside
            whole = np.zeros((height, width, 3), np.uint8)
            whole[y:y + image.shape[0], x:x + image.shape[1]] = image
            image = whole
        self._last = self._frames.next(image)
        return self._last

    def close(self) -> None:
        self._display.close()

    def _follow_screen(self) -> dict | None:
        """Read the screen's size again and clip the window to the screen as it is now; the area to grab now."""
        before = self._screen
        self._screen = self._display.reopen()[0]
        if self._screen != before:
            log.info("the screen is now %dx%d", self._screen["width"], self._screen["height"])
        self.area = self._area()
        return self.area

    def _screen_grew(self) -> bool:
        """Whether the screen now reaches past the right or bottom edge that cuts the window: a one-pixel grab just
        past that edge, which X refuses outside the screen. (Looking only while the window is cut, so a window on
        the screen costs nothing.)"""
        if self._whole is None:
            return False
        x, y, width, height = self._whole
        left, top = self._screen["left"], self._screen["top"]
        right, bottom = left + self._screen["width"], top + self._screen["height"]
        past = []
        if x + width > right:
            past.append((right, min(max(y, top), bottom - 1)))
        if y + height > bottom:
            past.append((min(max(x, left), right - 1), bottom))
        for px, py in past:
            try:
                self._display.grab({"left": px, "top": py, "width": 1, "height": 1})
                return True
            except Exception:
                continue
        return False

    def _follow(self) -> None:
        self._checked = time.monotonic()
        try:
            alive = self._window.isAlive
        except Exception:  # the window (or the display) is gone under us
            alive = False
        if not alive:
            self._display.reopen()  # a SourceError of its own where the whole display is gone with the window
            raise SourceError(f"the window {self.name!r} has closed; start ferbot again when the meeting is open "
                              "(--window TITLE)")
        before = self._whole
        if time.monotonic() - self._probed > RECHECK_S:
            self._probed = time.monotonic()
            if self._screen_grew():
                self._follow_screen()
        area = self._area()
        if area != self.area:
            if area is None:
                shown = "its last picture" if self._last is not None else "a black picture until it is back"
                log.info("the window %r is minimised or off the screen: showing %s", self.name, shown)
            else:
                x, y, width, height = self._whole
                if before is not None and (width, height) == before[2:]:
                    log.info("the window %r moved to (%d, %d)", self.name, x, y)
                else:
                    log.info("the window %r is now %dx%d at (%d, %d)", self.name, width, height, x, y)
            self.area = area

    def _area(self) -> dict | None:
        """The window's place on the screen, clipped to it; None when minimised or off the screen. Sets
        `_inside` to (x, y, width, height): where that part lies in the whole window, when it is not all of it."""
        self._inside = self._whole = None
        try:
            if self._window.isMinimized:
                return None
            box = self._window.box
        except Exception:
            return None
        screen = self._screen
        box_left, box_top, box_w, box_h = int(box.left), int(box.top), int(box.width), int(box.height)
        self._whole = (box_left, box_top, box_w, box_h)
        left, top = max(box_left, screen["left"]), max(box_top, screen["top"])
        right = min(box_left + box_w, screen["left"] + screen["width"])
        bottom = min(box_top + box_h, screen["top"] + screen["height"])
        if right - left < 16 or bottom - top < 16:
            return None
        if (left, top, right - left, bottom - top) != (box_left, box_top, box_w, box_h):
            self._inside = (left - box_left, top - box_top, box_w, box_h)
        return {"left": left, "top": top, "width": right - left, "height": bottom - top}

    def _find(self, pywinctl, title: str):
        try:
            windows = [w for w in _all_windows(pywinctl)
                       if w.title and not w.title.startswith(OWN_WINDOWS) and OWN_COMMAND not in w.title]
            matches = [w for w in windows if title.lower() in w.title.lower()]
            window = max(matches, key=lambda w: w.box.width * w.box.height) if matches else None
        except Exception as err:  # also a window closed while it was being sized
            raise SourceError(f"cannot list the windows ({first_line(err)}); use --monitor or --region") from None
        if window is None:
            titles = sorted({w.title for w in windows})
            seen = ", ".join(repr(t) for t in titles[:MAX_LISTED]) + (" ..." if len(titles) > MAX_LISTED else "")
            raise SourceError(f"no window's title contains {title!r}; "
                              + (f"the windows are: {seen}" if titles else "no windows are listed (on X11, is a "
                                 "window manager running?)") + "; pass part of one with --window")
        if len(matches) > 1:
            log.info("%d windows' titles contain %r: capturing the largest, %r", len(matches), title, window.title)
        return window


def _all_windows(pywinctl) -> list:
    """pywinctl's windows; on Linux always as pywinctl lists them on X11 (the window manager's client list): where
    XDG_SESSION_TYPE is wayland it asks GNOME Shell over D-Bus instead, which fails outside GNOME or without its
    unsafe mode, while mss grabs X11 windows only, the meeting app's under XWayland among them."""
    if not sys.platform.startswith("linux"):
        return pywinctl.getAllWindows()
    from ewmhlib import defaultEwmhRoot  # pywinctl's own X11 root, on the display it imported with

    windows = []
    for handle in defaultEwmhRoot.getClientListStacking() or ():
        with contextlib.suppress(Exception):  # a window that closed meanwhile, left out as pywinctl does
            windows.append(pywinctl.Window(handle))
    return windows


def _import_pywinctl():
    """pywinctl, imported only for --window (on Linux it connects to the X display as it is imported)."""
    try:
        import pywinctl
    except ImportError:
        raise SourceError("--window needs pywinctl: pip install pywinctl") from None
    except Exception as err:  # no X display, no accessibility permission, ...
        raise SourceError(f"cannot look at the windows ({first_line(err)}); use --monitor or --region") from None
    return pywinctl
