"""`--log PATH`: a CSV with one row per detected face per analysed frame. No images, only numbers.

Columns: time_s (the frame's time on the source clock), frame (its index), track_id, the box x, y, w, h in
source-frame pixels, the shown emotion and its confidence, attention (the smoothed share of recent time the
face was turned to the screen, 0-1), and one column per class probability (smoothed over time, as shown),
named after the class in lower case.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ferbot.analysis import Analysis
from ferbot.emotions import PROBABILITY_COLUMNS

COLUMNS = ("time_s", "frame", "track_id", "x", "y", "w", "h", "emotion", "confidence", "attention",
           *PROBABILITY_COLUMNS)


class FaceLog:
    """Appends each analysis to a CSV file; flushed after every analysed frame."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = self.path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(COLUMNS)

    def write(self, analysis: Analysis) -> None:
        for face in analysis.visible_faces:
            x, y, w, h = face.box
            self._writer.writerow([f"{analysis.timestamp:.3f}", analysis.frame_index, face.track_id,
                                   f"{x:.1f}", f"{y:.1f}", f"{w:.1f}", f"{h:.1f}", face.emotion,
                                   f"{face.confidence:.4f}", f"{face.attention:.3f}",
                                   *(f"{p:.4f}" for p in face.probabilities)])
        self._file.flush()

    def close(self) -> None:
        self._file.close()
