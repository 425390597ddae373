"""The regions left out of the analysis (`--exclude`): a student who opted out, the teacher's own tile.

They are given in the pixels of the captured frame as it is when ferbot starts. When the frame changes size (a
projector plugged in changes the screen's resolution, the followed window is resized) the same pixels hold
another part of the meeting, so the regions scale with the frame, which keeps them on the same tiles where the
meeting app scales its gallery with its window, and a warning asks the teacher to check the feed's outlines.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from ferbot.geometry import Rect

log = logging.getLogger(__name__)


class Exclusions:
    """The excluded regions, shared by the analysis (which blanks them) and the renderer (which outlines them), so
    both place them alike in every frame, from their own threads."""

    def __init__(self, regions: Sequence[Rect] = ()):
        self.given = tuple(regions)
        self._given_in: tuple[int, int] | None = None  # the size of the first frame: the regions' own pixels
        self._size: tuple[int, int] | None = None
        self._regions = self.given
        self._resize_told = False
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.given)

    def in_frame(self, width: int, height: int) -> tuple[Rect, ...]:
        """The regions in the pixels of a width x height frame. The first frame's size is the one they were given
        in (a region wholly outside it is warned of); in a frame of another size they are scaled to it, and the
        first such frame is warned of (a window being resized makes many sizes)."""
        with self._lock:
            if self.given and (width, height) != self._size:
                self._size = (width, height)
                self._regions = self._scaled_to(width, height)
            return self._regions

    def _scaled_to(self, width: int, height: int) -> tuple[Rect, ...]:
        if self._given_in is None:
            self._given_in = (width, height)
            warn_of_empty_exclusions(self.given, width, height)
        sx, sy = width / self._given_in[0], height / self._given_in[1]
        regions = tuple(Rect(r.x * sx, r.y * sy, r.w * sx, r.h * sy) for r in self.given)
        if (width, height) != self._given_in:
            log.log(logging.DEBUG if self._resize_told else logging.WARNING,
                    "the captured frame is now %dx%d (it was %dx%d when ferbot started): the --exclude regions are "
                    "scaled with it, to %s; check on the feed that their grey \"excluded\" outlines still cover the "
                    "right tiles, or restart ferbot with --exclude in the new frame's pixels", width, height,
                    *self._given_in, " and ".join(",".join(map(str, r.as_int())) for r in regions))
            self._resize_told = True
        return regions


def warn_of_empty_exclusions(regions: Sequence[Rect], width: int, height: int) -> None:
    """Log a warning for each excluded region that lies wholly outside a width x height frame: a mistyped --exclude
    would otherwise leave a student who opted out analysed without a word."""
    frame = Rect(0, 0, width, height)
    for region in regions:
        if region.intersection_area(frame) <= 0:
            log.warning("--exclude %s lies outside the captured frame (%dx%d): it excludes nothing; give its "
                        "position in the frame's pixels", ",".join(map(str, region.as_int())), width, height)


def blank_regions(image: np.ndarray, regions: Sequence[Rect]) -> np.ndarray:
    """A copy of `image` with `regions` (clipped to it) filled with black; `image` itself when there are none."""
    if not regions:
        return image
    blanked = image.copy()
    for region in regions:
        region.pixels(blanked)[:] = 0
    return blanked
