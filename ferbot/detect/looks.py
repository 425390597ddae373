"""How a part of the screen looks, cheaply: grey samples, and thumbnails that tell whether a region still shows the
same scene from one find to the next (a webcam's noise and movement: yes; a new screen, a new layout: no)."""

from __future__ import annotations

import cv2
import numpy as np

from ferbot.geometry import Rect

REGION_LOOK = 32  # px: the side of the grey thumbnail that tells whether a region still shows the same scene ...
SAME_SCENE = 12.0  # ... within this mean grey-level difference


def grey_sample(pixels: np.ndarray) -> np.ndarray:
    """Every fourth pixel of every fourth row of an RGB window, in grey levels (a tinted picture's colour channels
    differ from each other by more than its grey levels vary)."""
    return cv2.cvtColor(np.ascontiguousarray(pixels[::4, ::4]), cv2.COLOR_RGB2GRAY)


def region_look(image: np.ndarray, region: Rect) -> np.ndarray:
    """A REGION_LOOK x REGION_LOOK grey thumbnail of the region, in float grey levels."""
    return cv2.resize(grey_sample(region.pixels(image)), (REGION_LOOK, REGION_LOOK),
                      interpolation=cv2.INTER_AREA).astype(np.float32)


def scene_difference(look: np.ndarray, other: np.ndarray) -> float:
    """How far apart two region_look thumbnails are: their mean grey-level difference."""
    return float(np.abs(look - other).mean())


def same_scene(look: np.ndarray, other: np.ndarray) -> bool:
    """Whether two region_look thumbnails show the same scene (within SAME_SCENE grey levels on average)."""
    return scene_difference(look, other) <= SAME_SCENE
