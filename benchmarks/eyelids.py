"""Where the eyelids sit, from MediaPipe's iris-landmark model, for the attention benchmark's heads bowed over a
desk (measured, not adopted: benchmarks/attention.py).

The model (iris_landmark.tflite, from the mediapipe 0.10.14 wheel's mediapipe/modules/iris_landmark/, Apache-2.0;
not shipped with ferbot: pass its path) takes a 64x64 RGB crop of one eye and returns 71 eye-contour points and
5 iris points; OpenCV's TFLite reader runs it. Each eye is cropped as MediaPipe's iris graph does: square, 2.3
times the distance between the mesh's eye corners (33-133, 362-263), the corners level, the subject's left eye
mirrored. Contour points 0 and 8 are the corners, 1-7 the lower lid and 9-15 the upper lid.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from ferbot.detect.blazeface import Detection
from ferbot.detect.facemesh import crop_to_picture, square_crop

SIZE = 64  # the model's square input, in pixels
EYE_SCALE = 2.3  # the crop's side in eye widths (corner to corner)
EYES = ((33, 133, False), (362, 263, True))  # mesh corners of each eye, and whether its crop is mirrored


class EyeLids:
    """The iris-landmark model, for how low the eyelids sit in each eye."""

    def __init__(self, model: Path):
        self._net = cv2.dnn.readNetFromTFLite(str(model))
        self._outputs = self._net.getUnconnectedOutLayersNames()

    def __call__(self, picture: np.ndarray, detection: Detection, points: np.ndarray) -> tuple[float, float]:
        """(upper, lower): the mean height of the upper and of the lower lid's contour points below the line
        between the eye's corners, over the eye's width, both eyes' mean (y down: the upper lid reads about -0.13
        on open eyes at the screen, nearer 0 when they are cast down or narrowed). `points` are the face mesh's
        landmarks of `detection` in `picture`."""
        crop_map = crop_to_picture(detection)
        corners = np.asarray(points, np.float64)[:, :2] @ crop_map[:, :2].T + crop_map[:, 2]
        lids = []
        for a, b, mirrored in EYES:
            contour = self._contour(picture, eye_crop(corners[a], corners[b]), mirrored)
            width = np.linalg.norm(contour[8] - contour[0])
            middle = (contour[0, 1] + contour[8, 1]) / 2
            lids.append(((contour[9:16, 1].mean() - middle) / width, (contour[1:8, 1].mean() - middle) / width))
        upper, lower = np.mean(lids, axis=0)
        return float(upper), float(lower)

    def _contour(self, picture: np.ndarray, crop_map: np.ndarray, mirrored: bool) -> np.ndarray:
        """The 71 eye-contour points (x, y) in the crop's pixels (mirrored back)."""
        crop = cv2.warpAffine(picture, crop_map, (SIZE, SIZE), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)
        if mirrored:
            crop = np.ascontiguousarray(crop[:, ::-1])
        self._net.setInput(cv2.dnn.blobFromImage(crop, 1 / 255.0))
        contour = next(o for o in self._net.forward(self._outputs) if o.size == 71 * 3).reshape(71, 3)[:, :2]
        if mirrored:
            contour = np.column_stack([SIZE - contour[:, 0], contour[:, 1]])
        return contour


def eye_crop(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The affine map (2x3) from the model's input crop to the picture: centred between the two corners,
    EYE_SCALE eye widths square, its x axis from `first` to `second`."""
    across = second - first
    return square_crop((first + second) / 2, EYE_SCALE * np.linalg.norm(across), math.atan2(across[1], across[0]),
                       SIZE)
