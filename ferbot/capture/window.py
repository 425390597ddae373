"""`--window TITLE`: the meeting app's window, followed as it moves or resizes (pywinctl finds it; mss grabs it).

Frames are the window's own pixels, so every box (on the feed and in the log) is in the window's pixels wherever
the window is. pywinctl works the same on X11, Windows and macOS; on Linux the windows are those a window manager
manages (_NET_CLIENT_LIST), which every desktop has, XWayland's included on a Wayland desktop. mss grabs the screen,
so whatever lies over the window would be grabbed with it: on X11 the parts that windows stacked above it cover are
black (the window manager's stacking order); Windows and macOS do not tell pywinctl that order.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time

import numpy as np

from ferbot.capture.base import MIN_SIDE, Frame, LiveFrames, SourceError
from ferbot.capture.display import Display
from ferbot.capture.screen import RECHECK_S
from ferbot.console import first_line
from ferbot.geometry import Rect

log = logging.getLogger(__name__)

FOLLOW_S = 0.2  # seconds between looks at the window's place, size and the windows above it (a few X round trips)
OWN_WINDOWS = ("FER Cam",)  # ferbot's own preview window is never the meeting
# nor the terminal ferbot runs in, where its title shows the command ("Command Prompt - ferbot --window Zoom")
OWN_COMMAND = "--window"
MAX_LISTED = 12
HIDDEN = "minimised, on another desktop or hidden"
DWMWA_EXTENDED_FRAME_BOUNDS = 9  # Windows: the window's frame as drawn, without its invisible resize border


class WindowSource:
    """The window whose title contains `title` (case-insensitive): of several such, the largest shown one."""

    recorded = False

    def __init__(self, title: str):
        self._display = Display()  # first: no display, or one that is gone, gets the screen capture's advice
        try:
            self._screen = self._display.monitors[0]
            self._pywinctl = _import_pywinctl()
            self._window, others = self._find(title)
            self.name = self._window.title
            self.area = self._area()
            if self.area is None:
                raise SourceError(f"the window {self.name!r} is {self._why()}" + (
                    f", and no other window whose title contains {title!r} is shown ({_listed(others)}); show the "
                    "meeting's" if others else "; show it") + ", then start ferbot")
        except BaseException:
            self._display.close()
            raise
        self._size = self._whole[2:]  # (width, height) as found, for a window minimised before its first picture
        self._checked = self._probed = time.monotonic()
        self._frames = LiveFrames()
        self._covers: dict[int, Rect] = {}  # the parts of the window that others cover, by their handles
        if others:
            log.info("%d windows' titles contain %r: capturing the largest shown one, %r", len(others) + 1, title,
                     self.name)
        log.info("capturing the window %r: %dx%d at (%d, %d)", self.name, self.area["width"], self.area["height"],
                 self.area["left"], self.area["top"])
        self._look_above()

    def read(self) -> Frame:
        """The window as it is now (a part off the screen, or under another window, is black); while it is
        minimised, on another desktop, hidden or wholly off the screen, the last picture again (a black one of its
        size before the first)."""
        if time.monotonic() - self._checked > FOLLOW_S:
            self._follow()
        if self.area is None:  # black where minimised as ferbot started, as a window's parts off the screen are
            return self._frames.held(self._size)
        image = self._display.grab_again_after(self.area, self._follow_screen, f"the window {self.name!r}")
        if image is None:  # the screen shrank from under the whole window
            return self.read()
        if not self._still_mapped():  # hidden since the last look: what was grabbed is what lies under it
            self._follow()
            return self.read()
        if self._inside is not None:  # partly off the screen: keep the window's own pixel coordinates
            x, y, width, height = self._inside
            whole = np.zeros((height, width, 3), np.uint8)
            whole[y:y + image.shape[0], x:x + image.shape[1]] = image
            image = whole
        for part in self._covers.values():
            part.pixels(image)[:] = 0
        return self._frames.next(image)

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
            self.area = area
            self._say_where(before)
        if area is not None:
            self._look_above()

    def _say_where(self, before: tuple[int, int, int, int] | None) -> None:
        """Log where the window is now, or that it is not to be seen; `before`: its box at the last look (None
        while it was minimised, on another desktop or hidden)."""
        if self.area is None:
            shown = "its last picture" if self._frames.last is not None else "a black picture until it is back"
            log.info("the window %r is %s: showing %s", self.name, self._why(), shown)
            return
        x, y, width, height = self._whole
        if before is None:
            log.info("the window %r is shown again: %dx%d at (%d, %d)", self.name, width, height, x, y)
        elif (width, height) == before[2:]:
            log.info("the window %r moved to (%d, %d)", self.name, x, y)
        else:
            log.info("the window %r is now %dx%d at (%d, %d)", self.name, width, height, x, y)

    def _still_mapped(self) -> bool:
        """On X11, whether the window is still mapped after a grab (one round trip a frame, so that a window hidden
        since the last look gives no frame of another window); elsewhere, as at the last look."""
        if not sys.platform.startswith("linux"):
            return True
        try:
            return self._window.isVisible
        except Exception:  # closed: the next look says so
            return False

    def _why(self) -> str:
        """Why the window is not captured now (its box is known only while it is shown)."""
        return HIDDEN if self._whole is None else "off the screen"

    def _look_above(self) -> None:
        """Note the parts of the window that the shown windows stacked above it cover, to black them out, and log
        when the windows that cover it change."""
        try:
            above = _shown_above(self._pywinctl, self._window)
        except Exception:  # the display went away meanwhile: the next grab says so
            return
        x, y, width, height = self._whole
        covers = {}
        for handle, (left, top, w, h) in above:
            part = Rect(left - x, top - y, w, h).clipped(width, height)
            if part.area > 0:
                covers[handle] = part
        if covers.keys() != self._covers.keys():
            if covers:
                log.info("the window %r is covered by %s: the part covered is black", self.name,
                         _listed(_title(self._pywinctl, handle) for handle in covers))
            else:
                log.info("the window %r is no longer covered by another window", self.name)
        self._covers = covers

    def _area(self) -> dict | None:
        """The window's place on the screen, clipped to it; None when it is minimised, on another desktop, hidden
        or off the screen. Sets `_whole` to its box (None when it is not shown) and `_inside` to (x, y, width,
        height): where the part on the screen lies in the whole window, when it is not all of it."""
        self._inside = self._whole = None
        try:
            if not _shown(self._window):
                return None
            self._whole = _box(self._window)
        except Exception:
            return None
        area = _on_screen(self._whole, self._screen)
        x, y, width, height = self._whole
        if area is not None and (area["left"], area["top"], area["width"], area["height"]) != self._whole:
            self._inside = (area["left"] - x, area["top"] - y, width, height)
        return area

    def _find(self, title: str):
        """The window to capture, of those whose title contains `title`: the shown ones first, then the largest;
        and the other matches' titles."""
        try:
            windows = [w for w in _all_windows(self._pywinctl)
                       if w.title and not w.title.startswith(OWN_WINDOWS) and OWN_COMMAND not in w.title]
            matches = [w for w in windows if title.lower() in w.title.lower()]
            window = max(matches, key=self._rank) if matches else None
        except Exception as err:  # also a window closed while it was being sized
            raise SourceError(f"cannot list the windows ({first_line(err)}); use --monitor or --region") from None
        if window is None:
            titles = sorted({w.title for w in windows})
            raise SourceError(f"no window's title contains {title!r}; "
                              + (f"the windows are: {_listed(titles)}" if titles else "no windows are listed (on "
                                 "X11, is a window manager running?)") + "; pass part of one with --window")
        return window, [w.title for w in matches if w is not window]

    def _rank(self, window) -> tuple[bool, int]:
        """Shown (not minimised, on this desktop, on the screen) first, then the larger."""
        box = _box(window)
        return _shown(window) and _on_screen(box, self._screen) is not None, box[2] * box[3]


def _shown(window) -> bool:
    """Whether the window is shown: not minimised, and mapped (not on another desktop, nor hidden by its app)."""
    return window.isVisible and not window.isMinimized


def _box(window) -> tuple[int, int, int, int]:
    """The window's (left, top, width, height) on the screen; on Windows as it is drawn (_drawn_frame), without the
    invisible resize border pywinctl's box includes (7 px at 100% scaling), which reaches past the screen's edges
    around a maximised window and would put the desktop behind into the frame."""
    if sys.platform == "win32" and (drawn := _drawn_frame(window.getHandle())) is not None:
        return drawn
    box = window.box
    return int(box.left), int(box.top), int(box.width), int(box.height)


def _drawn_frame(handle: int) -> tuple[int, int, int, int] | None:
    """Windows: a window's frame as the desktop window manager draws it (DWMWA_EXTENDED_FRAME_BOUNDS, in physical
    pixels in ferbot's DPI-aware process), as (left, top, width, height); None where it does not say."""
    import ctypes
    from ctypes import wintypes

    rect = wintypes.RECT()
    failed = ctypes.windll.dwmapi.DwmGetWindowAttribute(
        wintypes.HWND(handle), DWMWA_EXTENDED_FRAME_BOUNDS, ctypes.byref(rect), ctypes.sizeof(rect))
    if failed or rect.right <= rect.left or rect.bottom <= rect.top:
        return None
    return rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top


def _on_screen(box: tuple[int, int, int, int], screen: dict) -> dict | None:
    """The part of `box` on `screen`, as mss grabs it; None where less than MIN_SIDE pixels across or down are."""
    x, y, width, height = box
    left, top = max(x, screen["left"]), max(y, screen["top"])
    right = min(x + width, screen["left"] + screen["width"])
    bottom = min(y + height, screen["top"] + screen["height"])
    if right - left < MIN_SIDE or bottom - top < MIN_SIDE:
        return None
    return {"left": left, "top": top, "width": right - left, "height": bottom - top}


def _listed(titles) -> str:
    """Window titles for a message: quoted, the first MAX_LISTED of them."""
    titles = list(titles)
    return ", ".join(repr(t) for t in titles[:MAX_LISTED]) + (" ..." if len(titles) > MAX_LISTED else "")


def _all_windows(pywinctl) -> list:
    """pywinctl's windows; on Linux always as pywinctl lists them on X11 (the window manager's client list): where
    XDG_SESSION_TYPE is wayland it asks GNOME Shell over D-Bus instead, which fails outside GNOME or without its
    unsafe mode, while mss grabs X11 windows only, the meeting app's under XWayland among them."""
    if not sys.platform.startswith("linux"):
        return pywinctl.getAllWindows()
    windows = []
    for handle in _stacking():
        with contextlib.suppress(Exception):  # a window that closed meanwhile, left out as pywinctl does
            windows.append(pywinctl.Window(handle))
    return windows


def _stacking() -> list[int]:
    """The X11 windows the window manager manages, bottom to top (_NET_CLIENT_LIST_STACKING)."""
    from ewmhlib import defaultEwmhRoot  # pywinctl's own X11 root, on the display it imported with

    return list(defaultEwmhRoot.getClientListStacking() or ())


def _shown_above(pywinctl, window) -> list[tuple[int, tuple[int, int, int, int]]]:
    """The shown windows stacked above `window`, each its handle and box with the frame its window manager draws
    (title bar, borders); none on Windows and macOS, whose stacking order pywinctl does not tell."""
    if not sys.platform.startswith("linux"):
        return []
    stacking = _stacking()
    handle = window.getHandle()
    above = []
    for other in stacking[stacking.index(handle) + 1:] if handle in stacking else ():
        with contextlib.suppress(Exception):  # a window that closed meanwhile
            other_window = pywinctl.Window(other)
            if _shown(other_window):
                above.append((other, _framed(other_window)))
    return above


def _framed(window) -> tuple[int, int, int, int]:
    """The window's box with the frame its window manager draws around it (EWMH's _NET_FRAME_EXTENTS)."""
    from ewmhlib import EwmhWindow, getPropertyValue

    x, y, width, height = _box(window)
    extents = getPropertyValue(EwmhWindow(window.getHandle()).getProperty("_NET_FRAME_EXTENTS"))
    left, right, top, bottom = extents if extents and len(extents) == 4 else (0, 0, 0, 0)
    return x - left, y - top, width + left + right, height + top + bottom


def _title(pywinctl, handle: int) -> str:
    """The title of the window `handle`; '?' for one that closed meanwhile."""
    try:
        return pywinctl.Window(handle).title
    except Exception:
        return "?"


def _import_pywinctl():
    """pywinctl, imported only for --window (on Linux it connects to the X display as it is imported)."""
    try:
        import pywinctl
    except ImportError:
        raise SourceError("--window needs pywinctl: pip install pywinctl") from None
    except Exception as err:  # no X display, no accessibility permission, ...
        raise SourceError(f"cannot look at the windows ({first_line(err)}); use --monitor or --region") from None
    return pywinctl
