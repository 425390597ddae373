"""OpenCV's own log lines, turned down for a while where ferbot says the same thing in one line of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import cv2


@contextmanager
def opencv_log_level(level: int) -> Iterator[None]:
    """OpenCV's log level set to `level` (cv2.utils.logging.LOG_LEVEL_*) inside the block, and back after it. The
    level is the process's, not the thread's."""
    before = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(level)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(before)
