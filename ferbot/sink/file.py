"""`--sink file:PATH`: the annotated feed written to a video file with OpenCV."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from ferbot.console import already_there
from ferbot.sink.base import SinkError

log = logging.getLogger(__name__)

FOURCC_BY_SUFFIX = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


class VideoFileSink:
    """Writes frames at `fps` to PATH (.mp4, .m4v, .mov, .avi or .mkv)."""

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float):
        self.path = Path(path)
        fourcc = FOURCC_BY_SUFFIX.get(self.path.suffix.lower())
        if fourcc is None:
            raise SinkError(f"--sink file:{path}: unknown video type; end the name with one of "
                            f"{', '.join(FOURCC_BY_SUFFIX)}")
        if self.path.exists():
            raise SinkError(already_there(f"--sink file:{path}"))
        if not self.path.parent.is_dir():
            raise SinkError(f"--sink file:{path}: folder {self.path.parent} does not exist; create it first")
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if not self._writer.isOpened():
            raise SinkError(f"--sink file:{path}: cannot write a video there (permissions? disk full?)")
        self.frames = 0
        log.info("writing the feed to %s", self.path)

    def send(self, frame: np.ndarray) -> bool:
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.frames += 1
        return True

    def close(self) -> None:
        self._writer.release()
        log.info("wrote %d frames to %s", self.frames, self.path)
