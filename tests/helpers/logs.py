"""Session logs written row by row as FaceLog writes them, for report tests that need a lesson of a given shape."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ferbot.emotions import CLASS_NAMES
from ferbot.facelog import COLUMNS, PROBABILITY_COLUMNS


def face_row(t: float, frame: int, track: int, name: str = "", emotion: str = "Happy",
             attention: float = 1.0, x: int = 0) -> list:
    """One analysed face: certain of `emotion`, a 50 px box at (x, 0), its camera on."""
    probabilities = np.eye(len(CLASS_NAMES))[CLASS_NAMES.index(emotion)]
    return [f"{t:.3f}", frame, track, x, 0, 50, 50, emotion, "1.0000", f"{attention:.3f}",
            *(f"{p:.4f}" for p in probabilities), name, "on"]


def camera_off_row(t: float, frame: int, track: int, name: str) -> list:
    """A named tile with its camera off: no box, emotion or attention."""
    return [f"{t:.3f}", frame, track, 0, 0, 50, 50, "", "", "", *[""] * len(PROBABILITY_COLUMNS), name, "off"]


def write_log(path: Path, rows: list[list]) -> None:
    """Writes `rows` under the log's header, in UTF-8 as FaceLog does."""
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([COLUMNS, *rows])
