"""The `--log PATH` CSV: its columns, writing it while the bot runs, and reading it back for the report.

One row per detected face per analysed frame; numbers only, never images. Columns: time_s (the frame's time on
the source clock), frame (its index), track_id, the box x, y, w, h in source-frame pixels, the shown emotion and
its confidence, attention (the smoothed share of recent time the face was turned to the screen, 0-1), and one
column per class probability (smoothed over time, as shown), named after the class in lower case.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ferbot.emotions import CLASS_NAMES

if TYPE_CHECKING:  # the report reads logs without loading the analysis stack
    from ferbot.analysis import Analysis

PROBABILITY_COLUMNS: tuple[str, ...] = tuple(name.lower() for name in CLASS_NAMES)
COLUMNS = ("time_s", "frame", "track_id", "x", "y", "w", "h", "emotion", "confidence", "attention",
           *PROBABILITY_COLUMNS)
# What the report needs; logs without attention (older ferbot versions) still read.
REQUIRED_COLUMNS = ("time_s", "frame", "track_id", *PROBABILITY_COLUMNS)


class LogError(ValueError):
    """A log cannot be written, or a file is not a ferbot log; the message says what to do."""


class FaceLog:
    """Appends each analysis to a new CSV file; flushed after every analysed frame."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._file = self.path.open("w", newline="", encoding="utf-8")
        except OSError as err:
            raise LogError(f"--log {path}: cannot write there ({err.strerror or err}); check that the folder "
                           "exists and is writable") from None
        self._writer = csv.writer(self._file)
        self._writer.writerow(COLUMNS)

    def write(self, analysis: Analysis) -> None:
        """One row per student's face detected in this analysis (still pictures are no students)."""
        for face in analysis.students:
            x, y, w, h = face.box
            self._writer.writerow([f"{analysis.timestamp:.3f}", analysis.frame_index, face.track_id,
                                   f"{x:.1f}", f"{y:.1f}", f"{w:.1f}", f"{h:.1f}", face.emotion,
                                   f"{face.confidence:.4f}", f"{face.attention:.3f}",
                                   *(f"{p:.4f}" for p in face.probabilities)])
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """The numeric columns of a ferbot log as float arrays; raises LogError when the file is not one."""
    path = Path(path)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or ()
            missing = [c for c in REQUIRED_COLUMNS if c not in fields]
            if missing:
                raise LogError(f"{path} is not a ferbot log (missing columns {', '.join(missing)}); pass the "
                               "CSV written by `ferbot --log PATH`")
            rows = list(reader)
    except (OSError, UnicodeDecodeError) as err:
        raise LogError(f"cannot read {path}: {err}") from None
    numeric = [c for c in (*REQUIRED_COLUMNS, "attention") if c in fields]
    try:
        # attention is empty for a face whose head pose was never read; every other column must hold a number
        return {name: np.asarray([row[name] if row[name] or name != "attention" else "nan" for row in rows],
                                 dtype=float) for name in numeric}
    except ValueError as err:
        raise LogError(f"{path} has a non-numeric value ({err}); was it edited by hand?") from None
