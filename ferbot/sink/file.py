"""`--sink file:PATH`: the annotated feed written to a video file with OpenCV, in step with the wall clock."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import shutil
import threading
from pathlib import Path

import cv2
import numpy as np

from ferbot.clock import Stopwatch
from ferbot.files import check_new_file, create_new_private
from ferbot.opencv_log import opencv_log_level
from ferbot.sink.base import WAKE_UP_S, SinkError

log = logging.getLogger(__name__)

FOURCC_BY_SUFFIX = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
# Frames sent but not yet encoded, at most (each is 2.6 MiB at 720p): beyond that the feed waits up to a frame's
# time (1 / fps) for the encoder, then the oldest frame waiting gives way.
FRAMES_QUEUED = 4
# An MJPG video's pictures are compressed here, at the size and quality FFmpeg's encoder gives them under OpenCV
# (118 KiB and 33.9 dB PSNR for a 720p feed frame), in 3.4 ms of CPU instead of 8.7.
JPEG_QUALITY = 75
# How far the encoder may fall behind the feed, in seconds of video, before a warning says so (MPEG-4 encodes every
# repeat anew: 4K at 30 fps is more than a 2-core laptop encodes in real time).
BEHIND_WARNING_S = 5.0
# The video stops, finished and playable, when less than this is left free on its disk: OpenCV reports no failed
# write, and an MPEG-4 file cut off by a full disk lacks the index written at its end and plays not at all. A 720p
# MJPG feed takes about 12 GB an hour; the reserve leaves room for the file's end and for the rest of the computer.
FREE_SPACE_RESERVE = 256 * 2**20
# OpenCV's FFmpeg writer fills a video file in blocks of this size: the file grows in such steps while frames are
# written, until a limit on its size (FAT32's 4 GiB, a quota, `ulimit -f`) refuses them, which OpenCV says only in a
# console warning per frame. A file that has not grown while two blocks were written to it has stopped growing.
WRITE_BLOCK = 256 * 2**10
# What a frame that OpenCV compresses itself (MPEG-4: it says not how big one came out) counts for towards those
# blocks: under half the least a frame of the feed comes to, 1.26 KiB (a still black screen at the smallest --size,
# 640x360); a JPEG picture counts for its size.
ENCODED_FRAME_BYTES = 600


class VideoFileSink:
    """Writes frames at `fps` to PATH (.mp4, .m4v, .mov, .avi or .mkv), each at the time it was sent.

    A frame sent t seconds after the first is frame int(t * fps) of the file: when the feed falls behind `fps` (a
    loaded machine), the frame before it is repeated for the ticks it stayed on, so the video lasts as long as the
    run and its times are the log's. A thread encodes them, so the repeats cost the feed no time (written on the
    feed's own thread, each repeat made the next send later still, and a feed already behind fell further behind:
    21 frames a second became 4 on the 2-core development machine), and an MJPG picture is compressed once, however
    often it is written. While the encoder keeps up, every frame sent is written. One slower than `fps` (a large
    MPEG-4 video) falls behind, with a warning, and never holds the feed (and the analysis) up by more than a
    frame's time a send: FRAMES_QUEUED frames wait for it, the newest, and an older one left out shows as the frame
    before it repeated. The file is whole at the end, once close() has written what waits, or shorter but playable
    when a Ctrl-C cuts that short. A disk that fills up stops the video, playable, while FREE_SPACE_RESERVE is
    still free: the next send raises SinkError; so does a file that stops growing (a limit on its size), kept up to
    there (an MPEG-4 file so cut off plays not at all).
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float):
        self.path = Path(path)
        fourcc = new_video_type(path)
        self.fps = fps
        self.frames = self.repeated = 0  # written so far, and how many of them repeat the one before
        self.left_out = 0  # frames sent that gave way to newer ones while the encoder was behind
        self._size = 0  # the file's size when last seen growing
        self._seconds_at_size = 0.0  # the video's length then
        self._bytes_unseen = 0  # bytes written since then (as ENCODED_FRAME_BYTES counts them)
        self._writer, self._jpeg = _video_writer(self.path, fourcc, fps, size)  # first: a folder not writable says so
        try:
            if not self._writer.isOpened():
                raise SinkError(f"--sink file:{path}: cannot write a video there (permissions? disk full?)")
            self._check_free_space()
        except BaseException:  # a SinkError, or a Ctrl-C: no empty file left to block the next run
            self._writer.release()
            self.path.unlink(missing_ok=True)
            raise
        self._clock = Stopwatch()  # from the first frame sent
        self._queue: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue(FRAMES_QUEUED)
        self._error: BaseException | None = None
        self._hurry = threading.Event()  # close() was interrupted: write what was sent, without the repeats
        self._written = threading.Event()  # the thread has ended (Thread.join, interrupted, may say so too early)
        self._warned_behind = False
        self._lag_at_catch_up = 0.0  # _lag_s() when a frame sent last found every one before it written
        self._thread = threading.Thread(target=self._write_frames, name="ferbot-video-file", daemon=True)
        self._thread.start()
        log.info("writing the feed to %s", self.path)

    def send(self, frame: np.ndarray) -> bool:
        """Queue the frame for the encoder, timed by when it was sent; where the encoder is behind, the oldest
        frame waiting is left out (counted in `left_out`). Raises the encoder's error, once it has one."""
        sent_at = self._clock.now()
        if self._error is not None:
            raise self._error
        item = (cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), math.floor(sent_at * self.fps))
        try:
            self._queue.put(item, timeout=1 / self.fps)
        except queue.Full:  # the encoder is behind: the oldest frame waiting gives way (only this thread puts)
            with contextlib.suppress(queue.Empty):
                self._queue.get_nowait()
                self.left_out += 1
            self._queue.put_nowait(item)
        return True

    def _write_frames(self) -> None:
        """Write each frame sent at its place (its `due` frame index), the one before repeated up to there (the
        first one taken stands for any before it: the first frames sent gave way to newer ones while this thread
        had not started yet, on a loaded machine)."""
        last = None
        # OpenCV's warning at each frame a file that cannot grow refuses ("Failed to write frame"), hundreds before
        # _check_growing sees it and says so in one line
        try:
            with opencv_log_level(cv2.utils.logging.LOG_LEVEL_ERROR):
                while (item := self._next_sent()) is not None:
                    image, due = item
                    picture = self._picture(image)
                    while self.frames < due and not self._hurry.is_set():  # the ticks the last frame stayed on
                        self._write(picture if last is None else last, repeat=True)
                    last = picture
                    self._write(last, repeat=False)
        except BaseException as err:  # raised by the next send; the frames still queued are dropped
            self._error = err if isinstance(err, SinkError) else SinkError(
                f"--sink file:{self.path}: stopped the video at {self.frames / self.fps:.0f} s: {err}; check the "
                "disk (unplugged? full?), or write the video to another one")
            while self._next_sent() is not None:
                pass
        finally:
            self._written.set()

    def _next_sent(self) -> tuple[np.ndarray, int] | None:
        """The next frame sent, or None once the sink closes. Polled: a Ctrl-C landing inside send()'s put can lose
        the wake-up of a plain get, and close() then waited for this thread for ever."""
        waited = self._queue.empty()
        while True:
            with contextlib.suppress(queue.Empty):
                item = self._queue.get(timeout=WAKE_UP_S)
                if waited and item is not None:
                    self._lag_at_catch_up = self._lag_s()
                return item

    def _write(self, picture: np.ndarray, repeat: bool) -> None:
        """Write one frame; at each second of video, check that the disk still has room and the file still grows
        (SinkError if not)."""
        self._warn_if_behind()
        self._writer.write(picture)
        self.frames += 1
        self.repeated += repeat
        self._bytes_unseen += picture.nbytes if self._jpeg else ENCODED_FRAME_BYTES
        if self.frames % math.ceil(self.fps) == 0:
            self._check_free_space()
            self._check_growing()

    def _check_free_space(self) -> None:
        free = shutil.disk_usage(self.path.parent).free
        if free >= FREE_SPACE_RESERVE:
            return
        where = (f"stopped the video at {self.frames / self.fps:.0f} s, playable up to there" if self.frames
                 else "cannot start a video")
        raise SinkError(f"--sink file:{self.path}: {where}: its disk has only {free / 2**20:.1f} MiB free, under the "
                        f"{FREE_SPACE_RESERVE / 2**20:g} MiB ferbot leaves free; free some space, or write the video "
                        "to another disk")

    def _check_growing(self) -> None:
        """SinkError once the file has not grown while 2 x WRITE_BLOCK bytes were written: a limit on its size."""
        size = self.path.stat().st_size
        if size == 0:  # Matroska holds the first frame back until the next one comes
            return
        if size > self._size:
            self._size, self._seconds_at_size, self._bytes_unseen = size, self.frames / self.fps, 0
            return
        if self._bytes_unseen < 2 * WRITE_BLOCK:
            return
        kept = ("an .mp4, .m4v or .mov file cut off so plays not at all (.mkv or .avi keep what was written)"
                if FOURCC_BY_SUFFIX[self.path.suffix.lower()] == "mp4v"
                else f"the file keeps the video up to about {self._seconds_at_size:.0f} s")
        raise SinkError(f"--sink file:{self.path}: the video file stopped growing at {size / 2**20:.1f} MiB: its disk "
                        f"or file system takes no larger file (FAT32 takes 4 GiB at most); {kept}; record to another "
                        "disk, or in shorter parts")

    def _lag_s(self) -> float:
        """How far the video written so far is behind the wall clock, in seconds."""
        return self._clock.now() - self.frames / self.fps

    def _warn_if_behind(self) -> None:
        """Warn once when the video has fallen more than BEHIND_WARNING_S further behind the wall clock since the
        writer last had written every frame sent. Not the lag itself: after a pause of the feed, the video is behind
        by the pause until the repeats that stand for it are written, and an encoder faster than `fps` catches up."""
        if self._warned_behind:
            return
        if self._lag_s() - self._lag_at_catch_up > BEHIND_WARNING_S:
            self._warned_behind = True
            log.warning("%s: this computer encodes the video more slowly than %g frames a second, and it is falling "
                        "behind the feed (the video lasts as long as the run, but leaves out frames, and finishing "
                        "it delays the end of the run); a .avi file, or a smaller --size or --fps, keeps up",
                        self.path, self.fps)

    def _picture(self, image: np.ndarray) -> np.ndarray:
        """What the writer takes for a BGR frame: the frame, or its JPEG file as one row of bytes."""
        if not self._jpeg:
            return image
        return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].reshape(1, -1)

    def close(self) -> None:
        """Write what was sent and finish the file (removed when it holds no frame); interrupted (Ctrl-C), without
        the repeats still to write; a further Ctrl-C leaves the file unfinished rather than wait."""
        ended = False
        try:
            self._queue.put(None)
            ended = True
            self._written.wait()
        except KeyboardInterrupt:
            log.warning("finishing %s without the repeated frames still to write (stopped)", self.path)
            self._hurry.set()
            if not ended:
                self._queue.put(None)
            self._written.wait()
            raise
        finally:
            if self._written.is_set():  # never under the thread's feet
                self._writer.release()
        if not self.frames:  # a run stopped before its first frame: an empty file would block the next try
            self.path.unlink(missing_ok=True)
            log.info("no frame was written: %s not kept", self.path)
            return
        repeats = f" ({self.repeated} of them repeats: the feed fell behind {self.fps:g} fps)" if self.repeated else ""
        left_out = f"; {self.left_out} frames sent were left out, the encoder behind" if self.left_out else ""
        log.info("wrote %d frames%s to %s%s", self.frames, repeats, self.path, left_out)


def new_video_type(given: str | Path) -> str:
    """The FOURCC a new video file at the path `given` is written with; SinkError, saying what to do, for a name of
    no known video type, a folder, a file that exists, or a name in a folder that does not."""
    path = Path(given)
    fourcc = FOURCC_BY_SUFFIX.get(path.suffix.lower())
    if fourcc is None and not path.is_dir():  # a folder is said to be one, below
        raise SinkError(f"--sink file:{given}: unknown video type; end the name with one of "
                        f"{', '.join(FOURCC_BY_SUFFIX)}")
    check_new_file(f"--sink file:{given}", given, SinkError, f"file:{path / 'class.mp4'}", noun="video file")
    return fourcc


def _video_writer(path: Path, fourcc: str, fps: float, size: tuple[int, int]) -> tuple[cv2.VideoWriter, bool]:
    """OpenCV's writer for the video, and whether it takes JPEG files as they are: MJPG where OpenCV's FFmpeg
    back-end can (its raw-video mode); otherwise, and for MPEG-4, it compresses each frame written itself. The
    file is created first, readable by this user only (students' faces); the writer writes into it."""
    os.close(create_new_private(f"--sink file:{path}", path, SinkError))
    try:
        raw = getattr(cv2, "VIDEOWRITER_PROP_RAW_VIDEO", None)
        if fourcc == "MJPG" and raw is not None:
            writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), fps, size, [raw, 1])
            if writer.isOpened():
                return writer, True
        return cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size), False
    except BaseException:  # OpenCV's own error (a size it cannot take), or a Ctrl-C: the empty file goes too
        path.unlink(missing_ok=True)
        raise
