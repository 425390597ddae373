"""What every source hands the pipeline: RGB frames with a timestamp and an index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ferbot.clock import Stopwatch

MIN_SIDE = 16  # pixels: a captured area (a --region, a window's part on screen) narrower or lower holds no tile


class SourceError(RuntimeError):
    """A source cannot be opened or read; the message says what to do."""


@dataclass(frozen=True)
class Frame:
    """One captured picture.

    image: RGB uint8 array (H, W, 3). timestamp: seconds on the source's clock (since its first frame, or
    the position in a video file). index: grows with each new picture (by one, or for a video its frame number,
    which skips the frames not shown); a source that repeats a picture (a still image, a video slower than the
    output) repeats its index, so it is analysed once.
    """

    image: np.ndarray
    timestamp: float
    index: int


class Source(Protocol):
    """A frame source. `read()` returns the current picture, or None once the source has ended. `recorded`: a
    recording (a video file, a screenshot), analysed after the lesson, so the wall clock dates none of its frames."""

    recorded: bool

    def read(self) -> Frame | None: ...

    def close(self) -> None: ...


class LiveFrames:
    """Frames of a live picture (a screen, a window, the demo): numbered from 0, timed from the first; `last` is the
    last one made (None before the first)."""

    def __init__(self):
        self._clock = Stopwatch()
        self._index = 0
        self.last: Frame | None = None

    def next(self, image: np.ndarray) -> Frame:
        """`image` as the next frame."""
        self.last = Frame(image, self._clock.now(), self._index)
        self._index += 1
        return self.last

    def held(self, size: tuple[int, int]) -> Frame:
        """The last frame again, for a picture out of sight (the same index, so it is not analysed again); before
        the first, a black one of size = (width, height)."""
        if self.last is None:
            self.next(np.zeros((size[1], size[0], 3), np.uint8))
        return self.last
