"""A video file played in real time, and a still image shown for as long as the bot runs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from ferbot.capture.base import Frame, SourceError
from ferbot.clock import Stopwatch

log = logging.getLogger(__name__)
# FFmpeg's own messages (e.g. "moov atom not found" for a broken .mp4) would come before ferbot's one-line error;
# quiet unless the user set a level. Read when a capture opens.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
MAX_FPS = 240.0  # a higher rate from a file's header is a container's time base, not its video's
MIN_FPS = 0.05  # a lower one (a frame every 20 s or less often) is a broken header
DEFAULT_FPS = 30.0


class VideoFileSource:
    """Frames of a video file at the file's own pace; `read()` returns None after the last one."""

    recorded = True

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video file {self.path} does not exist; check the path given to --source")
        self._capture = cv2.VideoCapture(str(self.path))
        ok, image = self._capture.read() if self._capture.isOpened() else (False, None)
        if not ok:
            self._capture.release()
            raise SourceError(f"cannot read {self.path} as a video or image; give a video file OpenCV can "
                              "decode (e.g. .mp4, .avi), an image, or 'screen'")
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = fps if MIN_FPS <= fps <= MAX_FPS else DEFAULT_FPS  # a slideshow's 0.5 fps is a real rate
        if self.fps != fps:
            log.warning("%s gives no usable frame rate (%g); playing it at %g fps", self.path, fps, DEFAULT_FPS)
        self._current = Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 0.0, 0)
        self._clock = Stopwatch()
        log.info("playing %s at %g fps", self.path, self.fps)

    def read(self) -> Frame | None:
        """The frame due now: frames are skipped when the caller is slow and repeated when it is fast."""
        due = max(int(self._clock.now() * self.fps), self._current.index)
        for _ in range(due - self._current.index - 1):
            if not self._capture.grab():
                return None
        if due > self._current.index:
            ok, image = self._capture.read()
            if not ok:
                return None
            self._current = Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), due / self.fps, due)
        return self._current

    def close(self) -> None:
        self._capture.release()


class StillImageSource:
    """One picture, returned on every read with the same index so it is analysed once."""

    recorded = True

    def __init__(self, path: str | Path):
        path = Path(path)
        try:  # read, then decoded: a file that cannot be read and one that is no image each get their message
            with _opencv_quiet():
                image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
        except OSError as err:
            raise SourceError(f"cannot read {path} ({err.strerror or err}); check the path given to --source") from None
        if image is None:
            raise SourceError(f"{path} is damaged or not an image OpenCV reads; give another image or a video")
        self._image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        self._clock = Stopwatch()

    def read(self) -> Frame:
        return Frame(self._image, self._clock.now(), 0)

    def close(self) -> None:
        pass


def image_frames(path: str | Path) -> int:
    """How many frames an image file holds: more than one in an animated GIF, WebP or PNG, 0 where OpenCV cannot
    read it."""
    with _opencv_quiet():
        return cv2.imcount(str(path))


@contextmanager
def _opencv_quiet() -> Iterator[None]:
    """OpenCV's own log lines (a damaged image's decoder error) would come before ferbot's one-line error."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)
