"""What the network is trained towards, and FER+ as a second opinion on FER2013's labels.

FER2013's labels are noisy: the FER+ crowd's majority (ten annotators per face) is the FER2013 label on about 66%
of the faces that have one (ferplus_majority).

A training target can mix the face's FER2013 label (label-smoothed) with the FER+ vote distribution over the same
seven classes (`ferplus_weight`; a face without FER+ emotion votes keeps its FER2013 target), and with teachers'
predictions (`teacher_weight`, distillation: train/teachers.py).
"""

from __future__ import annotations

import numpy as np

from ferbot.emotions import CLASS_NAMES
from train.data import FERPLUS_COLUMNS, DataError, Split

# Where each FER2013 class (CLASS_NAMES order) is among the FER+ vote columns.
FERPLUS_INDEX = [FERPLUS_COLUMNS.index(c) for c in ("anger", "disgust", "fear", "happiness", "sadness", "surprise",
                                                    "neutral")]


def ferplus_distribution(votes: np.ndarray) -> np.ndarray:
    """(N, 7) share of each face's FER+ votes per FER2013 class (CLASS_NAMES order); NaN rows for faces without
    any vote for one of the seven emotions."""
    emotion = votes[:, FERPLUS_INDEX].astype(np.float32)
    totals = emotion.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, emotion / totals, np.nan).astype(np.float32)


def ferplus_majority(votes: np.ndarray) -> np.ndarray:
    """Per face, the FER2013 class the FER+ crowd voted for most, or -1 when the most voted column is none of the
    seven emotions (contempt, unknown, not a face), the votes tie for first place, or there are none."""
    counts = np.where(votes < 0, 0, votes)
    top = counts.max(axis=1)
    winners = (counts == top[:, None]).sum(axis=1)
    best = counts.argmax(axis=1)
    lookup = np.full(len(FERPLUS_COLUMNS), -1)
    lookup[FERPLUS_INDEX] = np.arange(len(CLASS_NAMES))
    return np.where((top > 0) & (winners == 1), lookup[best], -1)


def ferplus_agreement(probabilities: np.ndarray, votes: np.ndarray) -> dict:
    """How often the predicted class is the FER+ majority, over the faces whose majority is one of the seven."""
    majority = ferplus_majority(votes)
    rows = majority >= 0
    agree = float((probabilities[rows].argmax(axis=1) == majority[rows]).mean()) if rows.any() else float("nan")
    return {"accuracy": agree, "n": int(rows.sum())}


def require_ferplus(split: Split, ferplus_weight: float) -> None:
    """DataError when the target asks for FER+ votes (`ferplus_weight` > 0) that the split lacks."""
    if ferplus_weight > 0 and split.ferplus is None:
        raise DataError("--ferplus-weight needs the FER+ crowd votes, which this --data lacks: use fer2013.npz, or "
                        "fer2013.csv with --ferplus fer2013new.csv")


def training_targets(split: Split, label_smoothing: float, ferplus_weight: float = 0.0,
                     teacher: np.ndarray | None = None, teacher_weight: float = 0.0) -> np.ndarray:
    """(N, 7) float32 target distribution per training face: the label-smoothed FER2013 label, mixed with the FER+
    vote distribution at `ferplus_weight` where the face has FER+ emotion votes, and then with the teachers'
    predictions (`teacher`, (N, 7)) at `teacher_weight`."""
    classes = len(CLASS_NAMES)
    targets = np.full((len(split), classes), label_smoothing / classes, np.float32)
    targets[np.arange(len(split)), split.labels] += 1.0 - label_smoothing
    if ferplus_weight > 0:
        require_ferplus(split, ferplus_weight)
        crowd = ferplus_distribution(split.ferplus)
        known = ~np.isnan(crowd).any(axis=1)
        targets[known] = (1 - ferplus_weight) * targets[known] + ferplus_weight * crowd[known]
    if teacher_weight > 0:
        targets = (1 - teacher_weight) * targets + teacher_weight * np.asarray(teacher, np.float32)
    return targets
