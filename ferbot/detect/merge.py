"""Merging the detections of overlapping windows: one box per face."""

from __future__ import annotations

import numpy as np

from ferbot.detect.blazeface import Detection

SAME_FACE_IOU = 0.3
SAME_FACE_CONTAINMENT = 0.6  # share of the smaller box inside the larger one


def merge_duplicates(detections: list[Detection]) -> list[Detection]:
    """Greedy non-maximum suppression: the best-scoring box of each group of overlapping boxes survives."""
    ranked = sorted(detections, key=lambda d: -d.score)
    same = _same_face_matrix([d.box for d in ranked])
    kept: list[int] = []
    for i in range(len(ranked)):
        if not same[i, kept].any():
            kept.append(i)
    return [ranked[i] for i in kept]


def _same_face_matrix(boxes: list) -> np.ndarray:
    """same_face() for every pair of boxes at once, as a boolean matrix."""
    if not boxes:
        return np.zeros((0, 0), bool)
    r = np.asarray(boxes, np.float64)
    x2, y2 = r[:, 0] + r[:, 2], r[:, 1] + r[:, 3]
    w = np.clip(np.minimum(x2[:, None], x2[None]) - np.maximum(r[:, None, 0], r[None, :, 0]), 0, None)
    h = np.clip(np.minimum(y2[:, None], y2[None]) - np.maximum(r[:, None, 1], r[None, :, 1]), 0, None)
    inter, area = w * h, r[:, 2] * r[:, 3]
    smaller = np.minimum(area[:, None], area[None])
    union = area[:, None] + area[None] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return (inter / np.where(union > 0, union, 1) >= SAME_FACE_IOU) | \
            ((smaller > 0) & (inter / np.where(smaller > 0, smaller, 1) >= SAME_FACE_CONTAINMENT))


def same_face(a: Detection, b: Detection) -> bool:
    """Whether two boxes are the same face seen twice: overlapping a lot, or one mostly inside the other."""
    inter = a.box.intersection_area(b.box)
    smaller = min(a.box.area, b.box.area)
    return a.box.iou(b.box) >= SAME_FACE_IOU or (smaller > 0 and inter / smaller >= SAME_FACE_CONTAINMENT)
