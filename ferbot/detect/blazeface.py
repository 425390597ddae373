"""MediaPipe Tasks FaceDetector with the shipped BlazeFace short-range model (128x128 input)."""

from __future__ import annotations

import atexit
import gc
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import mediapipe as mp
import numpy as np
from mediapipe.tasks.python.core.base_options import BaseOptions
from mediapipe.tasks.python.vision import FaceDetector, FaceDetectorOptions

from ferbot.detect.crops import check_rgb
from ferbot.detect.models import model_bytes
from ferbot.geometry import Rect

MODEL_FILE = "face_detection_short_range.tflite"
# MediaPipe detectors whose BlazeFace was collected, or Python is exiting, without close(): closed at the next safe
# point (_close_left_open). Closing one inside the garbage collector could run while MediaPipe's own thread pool held
# its lock in this thread (a collection set off by an allocation in its submit): the close waited on that lock for
# ever (a test that failed with its finder open hung the next one)
_LEFT_OPEN: list[FaceDetector] = []


@dataclass(frozen=True, eq=False)  # compared by identity: its keypoints are an array
class Detection:
    """One face: its box and keypoints (right eye, left eye, nose tip, mouth, right ear, left ear: shape (6, 2)) in
    pixels, and the detector score."""

    box: Rect
    score: float
    keypoints: np.ndarray

    def moved(self, dx: float, dy: float) -> Detection:
        """The same detection in a frame whose origin is (-dx, -dy) from this one's."""
        return Detection(self.box.shifted(dx, dy), self.score, self.keypoints + np.array([dx, dy], np.float32))

    def mirrored(self, width: float) -> Detection:
        """The same detection found in the mirror image of a picture `width` pixels wide, in the picture's own
        coordinates (the subject's right and left swap back, so the keypoint order still holds)."""
        box = Rect(width - self.box.x2, self.box.y, self.box.w, self.box.h)
        points = self.keypoints.copy()
        points[:, 0] = width - points[:, 0]
        return Detection(box, self.score, points[[1, 0, 2, 3, 5, 4]])


class BlazeFace:
    """Finds faces that fill a fair part of the picture (about a sixth of its side or more; ferbot.detect.tiling
    shows it windows of the screen sized for that)."""

    def __init__(self, min_confidence: float = 0.6):
        model = model_bytes(MODEL_FILE)
        options = FaceDetectorOptions(base_options=BaseOptions(model_asset_buffer=model),
                                      min_detection_confidence=min_confidence)
        # On a desktop MediaPipe opens an OpenGL context (unused: the model runs on the CPU), and Mesa's drivers
        # would keep a shader cache in the user's cache folder: nothing is written that README does not list.
        os.environ.setdefault("MESA_SHADER_CACHE_DISABLE", "true")
        _close_left_open()
        with quiet_native_stderr():
            self._detector = FaceDetector.create_from_options(options)
            # Closed by close() or, for a detector left open (a crash, a failing test), at the next BlazeFace made
            # or closed or when Python exits, before the interpreter's teardown, where MediaPipe's own clean-up can
            # hang (_LEFT_OPEN).
            self._closer = weakref.finalize(self, _left_open, self._detector)
            # The runtime prints a one-time note the first time it realigns an input, which depends on where
            # the picture lands in memory; pictures of a few sizes make that happen here, out of sight.
            for height, width in ((8, 8), (31, 57), (127, 129), (150, 270), (349, 401)):
                self.detect(np.zeros((height, width, 3), np.uint8))

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 picture, in its pixel coordinates."""
        check_rgb(image)
        height, width = image.shape[:2]
        picture = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))
        found = []
        for d in self._detector.detect(picture).detections:
            b = d.bounding_box
            keypoints = np.array([(k.x * width, k.y * height) for k in d.keypoints], np.float32).reshape(-1, 2)
            found.append(Detection(Rect(b.origin_x, b.origin_y, b.width, b.height), d.categories[0].score,
                                   keypoints))
        return found

    def close(self) -> None:
        if self._closer.detach() is not None:  # not closed before
            _close_quietly(self._detector)
        _close_left_open()

    def __enter__(self) -> BlazeFace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _left_open(detector: FaceDetector) -> None:
    """A detector whose BlazeFace was not closed: kept for the next safe point where the garbage collector found it
    (_LEFT_OPEN), closed now at exit (weakref.finalize's exit handler turns the collector off first)."""
    if gc.isenabled():
        _LEFT_OPEN.append(detector)
    else:
        _close_quietly(detector)


@atexit.register  # those the collector found, where no BlazeFace was made or closed after
def _close_left_open() -> None:
    """Close the detectors left open (_LEFT_OPEN)."""
    while _LEFT_OPEN:
        _close_quietly(_LEFT_OPEN.pop())


def _close_quietly(detector: FaceDetector) -> None:
    """Close a detector; at exit, where MediaPipe's thread pool has already shut down (mediapipe 0.10.33) and the
    close cannot be run, let it go with the process instead (and keep its __del__ from trying again)."""
    with quiet_native_stderr():
        try:
            detector.close()
        except RuntimeError as err:
            if "after shutdown" not in str(err):  # "cannot schedule new futures after shutdown": Python is exiting
                raise
            detector._handle = None


@contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for a moment: MediaPipe's runtime writes INFO notes there that no setting
    turns off. Python exceptions still propagate."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)
