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
    in its row and its column (no close second either way). Costs are never NaN (inf: no pair)."""
    others = np.minimum(_cheapest_other(cost, axis=1), _cheapest_other(cost, axis=0))
    return [(int(r), int(c)) for r, c in zip(*np.nonzero((cost <= limit) & (cost + margin <= others)))]


def _cheapest_other(cost: np.ndarray, axis: int) -> np.ndarray:
    """For each cell, the cheapest other cost along `axis` (1: in its row, 0: in its column); inf if none."""
    if cost.shape[axis] < 2:
        return np.full(cost.shape, np.inf)
    two_cheapest = np.partition(cost, 1, axis=axis)
    cheapest, second = np.take(two_cheapest, [0], axis=axis), np.take(two_cheapest, [1], axis=axis)
    position = np.arange(cost.shape[axis]).reshape([-1 if a == axis else 1 for a in range(cost.ndim)])
    return np.where(position == np.argmin(cost, axis=axis, keepdims=True), second, cheapest)
