"""Pairing tracks with detections: one greedy assignment for every cost the tracker uses."""

from __future__ import annotations

import numpy as np


def greedy_pairs(cost: np.ndarray, limit: float) -> list[tuple[int, int]]:
    """Row/column pairs in order of increasing cost, each row and column used once, cost <= limit."""
    pairs, rows, cols = [], set(), set()
    for flat in np.argsort(cost, axis=None, kind="stable"):
        r, c = np.unravel_index(flat, cost.shape)
        if cost[r, c] > limit:
            break
        if r not in rows and c not in cols:
            pairs.append((int(r), int(c)))
            rows.add(r)
            cols.add(c)
    return pairs


def mutual_best_pairs(cost: np.ndarray, limit: float, margin: float) -> list[tuple[int, int]]:
    """Row/column pairs each the other's cheapest, at cost <= limit, and cheaper by `margin` than any other cost
    in its row and its column (no close second either way)."""
    pairs = []
    for r, c in zip(*np.nonzero(cost <= limit)):
        others = np.concatenate([np.delete(cost[r], c), np.delete(cost[:, c], r)])
        if others.size == 0 or cost[r, c] + margin <= others.min():
            pairs.append((int(r), int(c)))
    return pairs
