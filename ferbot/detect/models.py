"""The detection models shipped inside the package (ferbot/assets/models), and the landmark models' runner."""

from __future__ import annotations

from importlib import resources

import cv2
import numpy as np


def model_bytes(name: str) -> bytes:
    """The model file `name` from ferbot/assets/models of the installed package, as bytes."""
    return (resources.files("ferbot") / "assets" / "models" / name).read_bytes()


class LandmarkModel:
    """A shipped TFLite landmark model (face mesh, iris), run with OpenCV's dnn on RGB uint8 crops."""

    def __init__(self, name: str):
        self._net = cv2.dnn.readNetFromTFLite(np.frombuffer(model_bytes(name), np.uint8))
        self._outputs = self._net.getUnconnectedOutLayersNames()

    def run(self, crop: np.ndarray, *sizes: int) -> list[np.ndarray]:
        """The model's outputs on `crop` (pixel values scaled to 0-1) that hold `sizes` values, in that order."""
        self._net.setInput(cv2.dnn.blobFromImage(crop, 1 / 255.0))
        outputs = self._net.forward(self._outputs)
        return [next(o for o in outputs if o.size == size) for size in sizes]
