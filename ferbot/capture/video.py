"""A video file played in real time, and a still image shown for as long as the bot runs."""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from pathlib import Path

import cv2
import numpy as np

from ferbot.capture.base import Frame, SourceError
from ferbot.clock import Stopwatch, elapsed_text
from ferbot.opencv_log import opencv_log_level

log = logging.getLogger(__name__)
# FFmpeg's own messages (e.g. "moov atom not found" for a broken .mp4) would come before ferbot's one-line error;
# quiet unless the user set a level. Read when a capture opens.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
MAX_FPS = 240.0  # a higher rate from a file's header is a container's time base, not its video's
MIN_FPS = 0.05  # a lower one (a frame every 20 s or less often) is a broken header
DEFAULT_FPS = 30.0
SAME_TIME_S = 0.001  # frame times closer than this (FFmpeg gives milliseconds) are one time
STEPS_KEPT = 25  # frames whose steps tell how long a frame usually shows
RESTART_S = 1.0  # a frame time this far before the last one starts the times again (recordings joined end to end)
# Failed grabs in a row after which a file whose header gives no frame count is taken to have ended: FFmpeg reads on
# past a damaged stretch (a dozen frames of a .mp4 with 20 kB overwritten), and a failed grab at the end costs
# microseconds. However many frames the header still promises, the tries stop after GIVE_UP_S (a long recording cut
# early, a header that lies): the feed waits meanwhile.
UNCOUNTED_TRIES = 300
GIVE_UP_S = 0.5
SHORT_S = 2.0  # a file whose last frame ends this much before its header's duration says so


class VideoFileSource:
    """Frames of a video file at the file's own pace, each at its own time in the file (a variable-frame-rate
    recording, such as a meeting app's, keeps its pauses); `read()` returns None after the last one. A frame's time
    is known only once it is grabbed, so each frame due is converted, including those a slow caller skips (a 1080p
    60 fps file read 30 times a second: about 40% more CPU than grabbing the skipped ones only)."""

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
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self._duration = count / fps if count > 0 and MIN_FPS <= fps <= MAX_FPS else 0.0  # FFmpeg's, or unknown
        self._frames_left = int(count) - 1 if count > 0 else None  # grabs the header still promises
        self._start_ms = self._capture.get(cv2.CAP_PROP_POS_MSEC)
        self._restarts_s = 0.0  # added to the frame times after the file's times started again
        self._current = Frame(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), 0.0, 0)
        self._last_step = 1 / self.fps  # how long the frame before the last showed
        self._steps = deque([1 / self.fps], maxlen=STEPS_KEPT)  # how long the last frames showed
        self._next = self._grab_next(after=0.0)
        self._clock = Stopwatch()
        log.info("playing %s at %g fps", self.path, self.fps)

    def read(self) -> Frame | None:
        """The frame due now: frames are skipped when the caller is slow and repeated when it is fast."""
        now = self._clock.now()
        latest, timestamp, index = None, self._current.timestamp, self._current.index
        while self._next is not None and self._next <= now:
            ok, image = self._capture.retrieve()
            if not ok:
                self._next = None
                break
            latest, index, self._last_step, timestamp = image, index + 1, self._next - timestamp, self._next
            self._steps.append(self._last_step)
            self._next = self._grab_next(after=timestamp)
        if latest is not None:  # decoded as BGR; converted once, for the frame shown
            self._current = Frame(cv2.cvtColor(latest, cv2.COLOR_BGR2RGB), timestamp, index)
        if self._next is None and now >= self._current.timestamp + self._last_frame_s():
            return None
        return self._current

    def close(self) -> None:
        self._capture.release()

    def _grab_next(self, after: float) -> float | None:
        """Grab the frame after the one at `after` seconds (decoded, not yet converted): its time in seconds from
        the first frame, None past the last. A frame whose time is unusable (none, or not after `after`: FFmpeg
        can repeat the time of a frame it flushes from the decoder at the file's end), or where the times start
        again (recordings joined), comes one frame step after (_frame_step: not a pause)."""
        if not self._grab(after):
            return None
        seconds = (self._capture.get(cv2.CAP_PROP_POS_MSEC) - self._start_ms) / 1000 + self._restarts_s
        if math.isfinite(seconds) and seconds > after + SAME_TIME_S:
            return seconds
        step = self._frame_step()
        if seconds < after - RESTART_S:
            self._restarts_s += after + step - seconds
        return after + step

    def _grab(self, after: float) -> bool:
        """Grab the next frame, past a damaged stretch of the file (FFmpeg skips what it cannot decode and reads
        on): a failed grab ends the file only when no frame follows within the grabs its header still promises
        (UNCOUNTED_TRIES where it gives no count), nor within GIVE_UP_S. Skipped stretches, and frames that end well
        before the header's duration (a file cut short: a copy stopped, a drive unplugged), are logged."""
        failed, give_up = 0, time.monotonic() + GIVE_UP_S
        tries = UNCOUNTED_TRIES if self._frames_left is None else self._frames_left
        while not self._capture.grab():
            failed += 1
            if failed > tries or time.monotonic() > give_up:
                if self._duration - (after + self._frame_step()) > SHORT_S:
                    log.warning("%s ends at %s, before the %s its header gives: it may be damaged or cut short",
                                self.path.name, elapsed_text(after), elapsed_text(self._duration))
                return False
        if self._frames_left is not None:
            self._frames_left -= failed + 1
        if failed:
            log.warning("%s: %d frame%s after %s could not be decoded (the file is damaged there); skipped",
                        self.path.name, failed, "s" * (failed > 1), elapsed_text(after))
        return True

    def _frame_step(self) -> float:
        """How long a frame usually shows: the median of the last frames' steps (a pause, or a time a moment after
        the one before, is one of many)."""
        return float(np.median(self._steps))

    def _last_frame_s(self) -> float:
        """How long the last frame shows: until the file's duration where that is known and later than the frame
        (but no longer than the frame before it showed), else one frame step (the last frame of a recording that
        paused before it lasts a moment, not the pause again)."""
        left = self._duration - self._current.timestamp
        return min(left, self._last_step) if left > 0 else self._frame_step()


class StillImageSource:
    """One picture, returned on every read with the same index so it is analysed once."""

    recorded = True

    def __init__(self, path: str | Path):
        path = Path(path)
        try:  # read, then decoded: a file that cannot be read and one that is no image each get their message
            # (OpenCV's own line, a damaged image's decoder error, would come before ferbot's)
            with opencv_log_level(cv2.utils.logging.LOG_LEVEL_SILENT):
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
    with opencv_log_level(cv2.utils.logging.LOG_LEVEL_SILENT):
        return cv2.imcount(str(path))
