"""Session logs written row by row as FaceLog writes them, for report tests that need a lesson of a given shape,
and the CSV files a run wrote read back."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ferbot.emotions import CLASS_NAMES
from ferbot.facelog import BOX_COLUMNS, COLUMNS, PROBABILITY_COLUMNS
from ferbot.geometry import Rect


def face_row(t: float, frame: int, track: int, name: str = "", emotion: str = "Happy",
             attention: float = 1.0, x: int = 0, clock: str = "") -> list:
    """One analysed face: certain of `emotion`, a 50 px box at (x, 0), its camera on, written at `clock`."""
    probabilities = np.eye(len(CLASS_NAMES))[CLASS_NAMES.index(emotion)]
    return [f"{t:.3f}", frame, track, x, 0, 50, 50, emotion, "1.0000", f"{attention:.3f}",
            *(f"{p:.4f}" for p in probabilities), name, "on", clock]


def camera_off_row(t: float, frame: int, track: int, name: str) -> list:
    """A named tile with its camera off: no box, emotion or attention."""
    return [f"{t:.3f}", frame, track, 0, 0, 50, 50, "", "", "", *[""] * len(PROBABILITY_COLUMNS), name, "off", ""]


def write_log(path: Path, rows: list[list]) -> None:
    """Writes `rows` under the log's header, in UTF-8 as FaceLog does."""
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([COLUMNS, *rows])


def csv_rows(path: Path, columns: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """The rows of a CSV file a run wrote, as dicts by its header's columns (`columns`, if given); every row must
    be whole: none cut short (the file was flushed) and none longer than the header."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert columns is None or tuple(reader.fieldnames or ()) == columns, f"{path}: header {reader.fieldnames}"
    assert all(None not in row and None not in row.values() for row in rows), f"{path}: a half-written row"
    return rows


def log_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a log a run wrote (`--log`), under the log's own header, each whole."""
    return csv_rows(path, COLUMNS)


def rows_written(path: Path) -> int:
    """How many rows a running bot has written to its log so far (lines after the header; 0 before it exists)."""
    return max(path.read_text().count("\n") - 1, 0) if path.exists() else 0


def row_box(row: dict[str, str]) -> Rect:
    """A log row's box, in the captured picture's pixels."""
    return Rect(*(float(row[k]) for k in BOX_COLUMNS))


def probability_row(t: float, frame: int, track: int, probabilities: list[float], name: str = "",
                    attention: float = 1.0, x: int = 0, clock: str = "") -> list:
    """One analysed face whose logged (smoothed) class probabilities are `probabilities`, labelled as the feed
    labels it: with the most probable class."""
    label = int(np.argmax(probabilities))
    return [f"{t:.3f}", frame, track, x, 0, 50, 50, CLASS_NAMES[label], f"{probabilities[label]:.4f}",
            f"{attention:.3f}", *(f"{p:.4f}" for p in probabilities), name, "on", clock]
