"""The clock that times a run's frames, on both ends of the pipeline: a source's frames and a video file's."""

from __future__ import annotations

import time


class Stopwatch:
    """Seconds since its first reading, on the monotonic clock (so the first reading is 0)."""

    def __init__(self):
        self._start: float | None = None

    def now(self) -> float:
        if self._start is None:
            self._start = time.monotonic()
        return time.monotonic() - self._start
