"""Crops of detected faces for the models: the 48x48 grayscale crop framed like FER2013's faces for the
classifier, and rotated square crops for the landmark models (ferbot.detect.facemesh, ferbot.detect.eyelids)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from ferbot.emotions import FACE_SIZE
from ferbot.geometry import Rect

# Measured on 600 FER2013 PrivateTest faces enlarged to 160 px and found by BlazeFace: the FER2013 picture is
# 1.185 times the side of the (square) box, and its centre lies 0.094 box heights above the box centre.
FER_SCALE = 1.185
FER_SHIFT_UP = 0.094


def fer_framing(box: Rect) -> Rect:
    """The square around a detector box that FER2013 would have cropped."""
    side = max(box.w, box.h) * FER_SCALE
    cx, cy = box.center
    return Rect.square(cx, cy - FER_SHIFT_UP * box.h, side)


def check_rgb(image: np.ndarray) -> None:
    """ValueError unless `image` is a non-empty RGB uint8 picture (H, W, 3): MediaPipe finds no face in an RGBA
    one, and says nothing."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8 or image.size == 0:
        raise ValueError(f"expected an RGB uint8 picture of shape (height, width, 3), got {image.dtype} "
                         f"{image.shape}; convert it first (cv2.cvtColor with COLOR_BGR2RGB, COLOR_GRAY2RGB or "
                         "COLOR_RGBA2RGB)")


def face_crops(image: np.ndarray, boxes: Sequence[Rect]) -> np.ndarray:
    """uint8 (N, 48, 48) grayscale crops of an RGB picture around fer_framing(box) for each detector box; parts
    outside the picture repeat its edge."""
    check_rgb(image)
    crops = np.empty((len(boxes), FACE_SIZE, FACE_SIZE), np.uint8)
    height, width = image.shape[:2]
    for i, box in enumerate(boxes):
        x, y, side, _ = fer_framing(box).as_int()
        side = max(side, 1)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + side, width), min(y + side, height)
        if x1 <= x0 or y1 <= y0:
            crops[i] = 0
            continue
        gray = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
        gray = cv2.copyMakeBorder(gray, y0 - y, y + side - y1, x0 - x, x + side - x1, cv2.BORDER_REPLICATE)
        crops[i] = cv2.resize(gray, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    return crops


def square_crop(centre: tuple[float, float], side: float, angle: float, size: int) -> np.ndarray:
    """The affine map (2x3) from a `size` x `size` crop to the picture: a square of `side` picture pixels centred
    on `centre`, its x axis at `angle` radians (for cv2.warpAffine with WARP_INVERSE_MAP)."""
    scale = side / size
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    cx, cy = centre
    half = size / 2
    return np.array([[cos, -sin, cx - (cos - sin) * half], [sin, cos, cy - (sin + cos) * half]])


def affine_crop(picture: np.ndarray, crop_map: np.ndarray, size: int) -> np.ndarray:
    """The `size` x `size` crop of `picture` whose pixels `crop_map` (2x3, crop to picture: square_crop) maps into
    it; edges repeated where it reaches past the picture."""
    return cv2.warpAffine(picture, crop_map, (size, size), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
