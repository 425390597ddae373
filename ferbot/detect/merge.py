"""Merging the detections of overlapping windows: one box per face."""

from __future__ import annotations

import numpy as np

from ferbot.detect.blazeface import Detection
from ferbot.geometry import Rect, intersection_matrix, iou_matrix

SAME_FACE_IOU = 0.3  # boxes overlapping this much (IoU) are one face
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


def _same_face_matrix(boxes: list[Rect]) -> np.ndarray:
    """For every pair of boxes, whether they are the same face seen twice: overlapping a lot (IoU), or one mostly
    inside the other."""
    if not boxes:
        return np.zeros((0, 0), bool)
    area = np.asarray(boxes, np.float64)[:, 2:].prod(axis=1)
    smaller = np.minimum(area[:, None], area[None])
    inside = intersection_matrix(boxes, boxes) / np.where(smaller > 0, smaller, 1) >= SAME_FACE_CONTAINMENT
    return (iou_matrix(boxes, boxes) >= SAME_FACE_IOU) | ((smaller > 0) & inside)
