"""The clock that times a run's frames, on both ends of the pipeline (a source's frames and a video file's), and
how a time into a session is written."""

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


def elapsed_text(seconds: float) -> str:
    """A time into a session or recording as h:mm:ss (rounded to the second)."""
    whole = int(round(seconds))
    return f"{whole // 3600:d}:{whole // 60 % 60:02d}:{whole % 60:02d}"
