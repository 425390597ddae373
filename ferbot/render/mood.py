"""The class mood: the share of each emotion across the visible faces now, and its recent history."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from ferbot.emotions import CLASS_NAMES, NUM_CLASSES
from ferbot.track.tracker import TrackedFace


def class_shares(faces: Sequence[TrackedFace]) -> np.ndarray:
    """(7,) share of the faces whose label is each emotion (zeros when there are none)."""
    counts = np.zeros(NUM_CLASSES, np.float32)
    for face in faces:
        counts[CLASS_NAMES.index(face.emotion)] += 1
    return counts / max(len(faces), 1)


class MoodTimeline:
    """Class shares over the last `window_s` seconds, one sample per analysed frame."""

    def __init__(self, window_s: float = 300.0):
        self.window_s = window_s
        self._samples: deque[tuple[float, np.ndarray]] = deque()

    def add(self, timestamp: float, shares: np.ndarray) -> None:
        """The class's emotion shares at `timestamp`; samples older than the window are dropped."""
        self._samples.append((timestamp, shares))
        while self._samples and self._samples[0][0] < timestamp - self.window_s:
            self._samples.popleft()

    def resample(self, now: float, columns: int) -> np.ndarray:
        """(columns, 7): the shares in force at evenly spaced times from now - window_s to now; rows before
        the first sample are zero."""
        out = np.zeros((columns, NUM_CLASSES), np.float32)
        if not self._samples:
            return out
        times = np.array([t for t, _ in self._samples])
        shares = np.stack([s for _, s in self._samples])
        at = now - self.window_s + (np.arange(columns) + 1) * self.window_s / columns
        latest = np.searchsorted(times, at, side="right") - 1
        known = latest >= 0
        out[known] = shares[latest[known]]
        return out
