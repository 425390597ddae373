"""Axis-aligned rectangles in pixel coordinates, shared by every stage of the bot."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# IoU from which a rectangle of the screen (a tile, a region searched whole) is the one at the same place on the last
# screen analysed: the face finder's searches (ferbot.detect.finder) and the name tags read (ferbot.names.tags)
# carry over to it.
SAME_TILE_IOU = 0.8


class Rect(NamedTuple):
    """A rectangle: top-left corner (x, y), width w and height h, in pixels of the frame it refers to."""

    x: float
    y: float
    w: float
    h: float

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def y2(self) -> float:
        return self.y + self.h

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    @classmethod
    def square(cls, cx: float, cy: float, side: float) -> Rect:
        """The square of `side` centred on (cx, cy)."""
        return cls(cx - side / 2, cy - side / 2, side, side)

    def shifted(self, dx: float, dy: float) -> Rect:
        """The same rectangle moved by (dx, dy)."""
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def scaled(self, factor: float) -> Rect:
        """Coordinates and size multiplied by `factor` (a change of pixel grid, not a zoom about the centre)."""
        return Rect(self.x * factor, self.y * factor, self.w * factor, self.h * factor)

    def clipped(self, width: float, height: float) -> Rect:
        """The part inside a width x height frame (zero-sized when outside it)."""
        x1, y1 = min(max(self.x, 0), width), min(max(self.y, 0), height)
        x2, y2 = min(max(self.x2, 0), width), min(max(self.y2, 0), height)
        return Rect(x1, y1, x2 - x1, y2 - y1)

    def contains_point(self, x: float, y: float) -> bool:
        """Whether (x, y) lies inside: the left and top edges included, the right and bottom ones not."""
        return self.x <= x < self.x2 and self.y <= y < self.y2

    def intersection(self, other: Rect) -> Rect:
        """The part the two rectangles share: of no positive width or height (area 0) where they do not overlap."""
        x1, y1 = max(self.x, other.x), max(self.y, other.y)
        return Rect(x1, y1, min(self.x2, other.x2) - x1, min(self.y2, other.y2) - y1)

    def intersection_area(self, other: Rect) -> float:
        """The area the two rectangles share; 0 where they do not overlap."""
        return self.intersection(other).area

    def iou(self, other: Rect) -> float:
        """Intersection over union (0 when disjoint)."""
        inter = self.intersection_area(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def as_int(self) -> tuple[int, int, int, int]:
        """(x, y, w, h) rounded to whole pixels, for slicing and drawing."""
        return round(self.x), round(self.y), round(self.w), round(self.h)

    def pixels(self, image: np.ndarray) -> np.ndarray:
        """The part of `image` (rows, columns, ...) under this rectangle, clipped to it: a view, possibly empty."""
        x, y, w, h = self.clipped(image.shape[1], image.shape[0]).as_int()
        return image[y:y + h, x:x + w]


def intersection_matrix(a: list[Rect], b: list[Rect]) -> np.ndarray:
    """Pairwise intersection areas, shape (len(a), len(b)), in float64."""
    ra, rb = np.asarray(a, np.float64).reshape(-1, 4)[:, None, :], np.asarray(b, np.float64).reshape(-1, 4)[None]
    w = np.minimum(ra[..., 0] + ra[..., 2], rb[..., 0] + rb[..., 2]) - np.maximum(ra[..., 0], rb[..., 0])
    h = np.minimum(ra[..., 1] + ra[..., 3], rb[..., 1] + rb[..., 3]) - np.maximum(ra[..., 1], rb[..., 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def iou_matrix(a: list[Rect], b: list[Rect]) -> np.ndarray:
    """Pairwise IoU, shape (len(a), len(b))."""
    if not a or not b:
        return np.zeros((len(a), len(b)), np.float32)
    inter = intersection_matrix(a, b)
    ra, rb = np.asarray(a, np.float64), np.asarray(b, np.float64)
    union = (ra[:, 2] * ra[:, 3])[:, None] + (rb[:, 2] * rb[:, 3])[None] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0).astype(np.float32)


def screen_scale(height: int) -> int:
    """Screen pixels per pixel of a 1080p-like screen, guessed from the screen's height: 1 below 1620 rows (a
    1440p screen is usually drawn at 100%), 2 on a 4K screen (where apps draw at 200%, so that every line, gutter
    and tile is twice a 1080p screen's), 3 on a 5K one. Steps that look at the screen's layout rather than at faces
    work at this scale, and so as fast as on a 1080p screen."""
    return max(1, round(height / 1080))
