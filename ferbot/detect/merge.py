"""Merging the detections of overlapping windows: one box per face."""

from __future__ import annotations

from ferbot.detect.blazeface import Detection

SAME_FACE_IOU = 0.3
SAME_FACE_CONTAINMENT = 0.6  # share of the smaller box inside the larger one


def merge_duplicates(detections: list[Detection]) -> list[Detection]:
    """Greedy non-maximum suppression: the best-scoring box of each group of overlapping boxes survives."""
    kept: list[Detection] = []
    for candidate in sorted(detections, key=lambda d: -d.score):
        if not any(same_face(candidate, k) for k in kept):
            kept.append(candidate)
    return kept


def same_face(a: Detection, b: Detection) -> bool:
    """Whether two boxes are the same face seen twice: overlapping a lot, or one mostly inside the other."""
    inter = a.box.intersection_area(b.box)
    smaller = min(a.box.area, b.box.area)
    return a.box.iou(b.box) >= SAME_FACE_IOU or (smaller > 0 and inter / smaller >= SAME_FACE_CONTAINMENT)
