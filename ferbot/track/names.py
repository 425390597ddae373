"""Identity by name (`--names`): faces keep the id of the name on their tile, wherever the tile moves.

A name's ids are remembered for the whole run, so a student who leaves (or whose tile moves to another page) and
comes back gets their id again. Two participants showing the same name stay two students: each time, their faces
are paired with that name's tracks by how alike the faces look (their small thumbnails), which does not depend on
where the meeting app put their tiles; without thumbnails, by the nearest box.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ferbot.geometry import Rect


def same_name(a: str, b: str) -> bool:
    """Whether two tags show the same name (case and surrounding spaces aside)."""
    return a.strip().casefold() == b.strip().casefold()


def compatible(track_name: str, detection_name: str) -> bool:
    """Whether a track may take a detection: an unread name on either side never stands in the way."""
    return not track_name or not detection_name or same_name(track_name, detection_name)


class NameBook:
    """Every id each name has had, for the whole run."""

    def __init__(self):
        self._ids: dict[str, list[int]] = {}

    def add(self, name: str, track_id: int) -> None:
        if name:
            ids = self._ids.setdefault(name.strip().casefold(), [])
            if track_id not in ids:
                ids.append(track_id)

    def claim(self, name: str, taken: set[int]) -> int | None:
        """The first id this name has had that is not `taken` (in use by another face now), or None."""
        for track_id in self._ids.get(name.strip().casefold(), ()):
            if track_id not in taken:
                return track_id
        return None


def name_pairs(track_names: Sequence[str], names: Sequence[str],
               cost: Callable[[int, int], float]) -> list[tuple[int, int]]:
    """(track, detection) pairs of the same non-empty name, cheapest `cost` first within each name."""
    pairs = []
    for name in {n.strip().casefold() for n in names if n}:
        tracks = [t for t, n in enumerate(track_names) if n and same_name(n, name)]
        detections = [d for d, n in enumerate(names) if n and same_name(n, name)]
        if not tracks or not detections:
            continue
        costs = np.array([[cost(t, d) for d in detections] for t in tracks])
        used_t, used_d = set(), set()
        for flat in np.argsort(costs, axis=None, kind="stable"):
            t, d = np.unravel_index(flat, costs.shape)
            if t not in used_t and d not in used_d:
                pairs.append((tracks[t], detections[d]))
                used_t.add(t)
                used_d.add(d)
    return pairs


def unlikeness(a: np.ndarray | None, b: np.ndarray | None, box_a: Rect, box_b: Rect) -> float:
    """How unlike two faces are: 1 - the correlation of their thumbnails, or, without thumbnails, the distance
    of their boxes' centres in screen pixels (which then always ranks after any thumbnail comparison)."""
    if a is not None and b is not None:
        za, zb = (a - a.mean()) / (a.std() + 1e-6), (b - b.mean()) / (b.std() + 1e-6)
        return 1.0 - float((za * zb).mean())
    (ax, ay), (bx, by) = box_a.center, box_b.center
    return 2.0 + float(np.hypot(ax - bx, ay - by))
