"""The `--log PATH` CSV: its columns, writing it while the bot runs, and reading it back for the report.

One row per detected face per analysed frame; numbers only, never images. Columns: time_s (the frame's time on
the source clock), frame (its index), track_id, the box x, y, w, h in source-frame pixels, the shown emotion and
its confidence, attention (the smoothed share of recent time the face was turned to the screen, 0-1), one
column per class probability (smoothed over time, as shown), named after the class in lower case, then name (the
name on the face's tile with --names, else empty), camera ("on") and clock (this computer's local time when the
row was written, ISO 8601 with its UTC offset: to find the session's moments in a recording of the meeting; empty
when the source is itself a recording, whose time_s already says where each moment is in it). With
--names, a tile that shows a name but no face adds a row with camera "off": its track_id, the tile's box and the
name, the other columns empty. A name that begins like a spreadsheet formula (students choose their names) is
written after an apostrophe, so that opening the log runs nothing, and read back without it. Logs of older
versions, without name, camera or clock, still read.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ferbot.emotions import CLASS_NAMES
from ferbot.files import create_new_private

if TYPE_CHECKING:  # the report reads logs without importing the analysis (and JAX with it)
    from ferbot.analysis import Analysis

log = logging.getLogger(__name__)

PROBABILITY_COLUMNS: tuple[str, ...] = tuple(name.lower() for name in CLASS_NAMES)
BOX_COLUMNS = ("x", "y", "w", "h")  # a face's box, or a camera-off tile's, in the captured picture's pixels
COLUMNS = ("time_s", "frame", "track_id", *BOX_COLUMNS, "emotion", "confidence", "attention",
           *PROBABILITY_COLUMNS, "name", "camera", "clock")
# What the report needs; logs without attention (older ferbot versions) still read.
REQUIRED_COLUMNS = ("time_s", "frame", "track_id", *PROBABILITY_COLUMNS)
MAX_TIME_S = 1e7  # about 16 weeks: a later time is no lesson's (and overflowed the report's time bins)
_WRITTEN_CLOCK = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d(:\d\d)?")  # isoformat(timespec="seconds")
MAX_WHOLE = 2**31 - 1  # the largest frame index or track id (a larger one overflowed the report's integers)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet takes for the start of a formula


def as_spreadsheet_text(name: str) -> str:
    """A name as a spreadsheet shows it: one that begins like a formula gets a leading apostrophe."""
    return f"'{name}" if name[:1] in _FORMULA_STARTS else name


def _from_spreadsheet_text(cell: str) -> str:
    """The name as_spreadsheet_text wrote into the log."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _FORMULA_STARTS else cell


class LogError(ValueError):
    """A log cannot be written, or a file is not a ferbot log; the message says what to do."""


class FaceLog:
    """Appends each analysis to a new CSV file; flushed after every analysed frame.

    A face's rows are held back from the analysis its crop last changed at until it changes again
    (TrackedFace.alive): a profile picture, also one that a camera turned off puts on a student's track, is found
    out after PICTURE_AFTER_S (at once on a tile that looks like a profile picture's: ferbot.track.tracker), and its
    rows, dropped then, never reach the file. They are written as soon as
    the crop changes (a webcam's, at its next analysis), the track ends, or the log closes: a face seen too
    briefly to tell is taken for a student, as the tracker takes it.
    """

    def __init__(self, path: str | Path, dated: bool = True):
        """`dated`: write the clock column (not for a recorded source: the time of its analysis dates nothing)."""
        self.path = Path(path)
        self.dated = dated
        # never over an earlier log; readable by this user only: it holds how each student felt
        self._file = open(create_new_private(f"--log {path}", self.path, LogError), "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(COLUMNS)
        self._failed = False
        self._held: dict[int, list[list]] = {}  # rows of faces whose crop has not changed since, by track id

    def write(self, analysis: Analysis) -> None:
        """One row per student's face detected in this analysis (still pictures are no students; the rows of a face
        whose crop has not changed since are held, class docstring), and one per named tile without a face."""
        when = [f"{analysis.timestamp:.3f}", analysis.frame_index]
        clock = datetime.now().astimezone().isoformat(timespec="seconds") if self.dated else ""
        rows = self._released(analysis)
        for face in analysis.students:
            row = [*when, face.track_id, *_box(face.box), face.emotion, f"{face.confidence:.4f}",
                   f"{face.attention:.3f}", *(f"{p:.4f}" for p in face.probabilities), as_spreadsheet_text(face.name),
                   "on", clock]
            held = [*self._held.pop(face.track_id, []), row]
            if face.alive:
                rows += held
            else:
                self._held[face.track_id] = held
        rows += [[*when, off.track_id, *_box(off.tile), "", "", "", *([""] * len(PROBABILITY_COLUMNS)),
                  as_spreadsheet_text(off.name), "off", clock] for off in analysis.camera_off]
        self._write(rows)

    def _released(self, analysis: Analysis) -> list[list]:
        """The held rows of faces whose track has ended, taken for a student's; those of faces found out to be
        still pictures are dropped; the rest stay held."""
        tracked = {face.track_id: face for face in analysis.faces}
        released = []
        for track_id in [t for t in self._held if t not in tracked or tracked[t].picture]:
            rows = self._held.pop(track_id)
            if track_id not in tracked:
                released += rows
        return released

    def _write(self, rows: list[list]) -> None:
        try:
            self._writer.writerows(rows)
            self._file.flush()
        except OSError as err:  # a full disk, a removed drive
            self._failed = True
            raise LogError(self._cannot_write(err)) from None

    def discard(self) -> None:
        """Close and delete the new log (a run that could not start: it holds only its header)."""
        self._file.close()
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Write the rows still held (faces too briefly seen to tell from a picture: taken for students) and close the
        file; LogError when what is left cannot be written, unless a write has said so already."""
        try:
            try:
                if not self._failed:
                    self._writer.writerows(row for rows in self._held.values() for row in rows)
            finally:
                self._file.close()
        except OSError as err:
            if not self._failed:
                raise LogError(self._cannot_write(err)) from None

    def _cannot_write(self, err: OSError) -> str:
        return (f"--log {self.path}: cannot write any more ({err.strerror or err}); what was written before is "
                "kept: free some space or log to another drive")


def _box(box) -> list[str]:
    return [f"{v:.1f}" for v in box]


def _whole_rows(rows: list[dict], path: Path, ends_a_row: bool) -> list[dict]:
    """The rows less a last row cut short (a run stopped while writing it: a column missing, or the file not ending
    its row where its last cell may be cut too); LogError for a short row elsewhere."""
    if rows and (None in rows[-1].values() or not (ends_a_row or _last_cell_whole(rows[-1]))):
        log.warning("%s: its last row is cut short (the run stopped while writing it); read without it", path)
        rows = rows[:-1]
    short = [line for line, row in enumerate(rows, start=2) if None in row.values()]
    if short:
        raise LogError(f"{path}:{short[0]} has too few columns; was it edited by hand?")
    long = [line for line, row in enumerate(rows, start=2) if None in row]  # csv.DictReader's key for the rest
    if long:
        raise LogError(f"{path}:{long[0]} has too many columns (a name with a comma, saved without its quotes?); "
                       "was it edited by hand?")
    return rows


def _last_cell_whole(row: dict[str, str]) -> bool:
    """Whether a row the file does not end (saved again without its final line break, or cut while written) ends
    with a whole cell: a clock as FaceLog writes it, or none (a recording's), or an older log's camera."""
    last = list(row)[-1]
    if last == "clock":
        return not row[last] or _WRITTEN_CLOCK.fullmatch(row[last]) is not None
    return last == "camera" and row[last] in ("on", "off")


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """The numeric columns of a ferbot log as float arrays, 'name' and 'clock' as strings and 'camera_off' as
    booleans ('' and False in older logs); raises LogError when the file is not one."""
    return parse_log(read_log_bytes(path), path)


def read_log_bytes(path: str | Path) -> bytes:
    """The log file's bytes, as they are now (a running lesson's log grows); LogError when it cannot be read."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise LogError(f"{path}: no such file; pass the CSV written by `ferbot --log PATH`") from None
    except IsADirectoryError:
        raise LogError(f"{path} is a folder; pass the CSV written by `ferbot --log PATH`") from None
    except OSError as err:
        raise LogError(f"cannot read {path}: {err.strerror or err}") from None


def parse_log(data: bytes, path: str | Path) -> dict[str, np.ndarray]:
    """read_log's columns from a log's bytes (read_log_bytes; `path` names the log in errors)."""
    path = Path(path)
    fields, rows = _log_rows(data, path)
    off = [row.get("camera") == "off" for row in rows]
    columns = _numeric_columns(rows, fields, off, path)
    _check_values(columns, off, path)
    columns["name"] = np.asarray([_from_spreadsheet_text(row.get("name") or "") for row in rows], dtype=object)
    columns["clock"] = np.asarray([row.get("clock") or "" for row in rows], dtype=object)
    columns["camera_off"] = np.asarray(off, dtype=bool)
    return columns


def _log_rows(data: bytes, path: Path) -> tuple[Sequence[str], list[dict[str, str]]]:
    """The log's column names and its whole rows (a row cut short by a running lesson's write left out); LogError
    for a file that is not a ferbot log."""
    if not data.strip():
        raise LogError(f"{path} is empty; pass the CSV written by `ferbot --log PATH`")
    try:
        # -sig: a log saved again by a spreadsheet
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        fields = reader.fieldnames or ()
        missing = [c for c in REQUIRED_COLUMNS if c not in fields]
        if missing:
            raise LogError(f"{path} is not a ferbot log (missing columns {', '.join(missing)}); pass the "
                           "CSV written by `ferbot --log PATH`")
        return fields, _whole_rows(list(reader), path, ends_a_row=data.endswith(b"\n"))
    except (UnicodeDecodeError, csv.Error) as err:
        what = "not text" if isinstance(err, UnicodeDecodeError) else err
        raise LogError(f"{path} is not a ferbot log ({what}); pass the CSV written by `ferbot --log PATH`") from None


def _numeric_columns(rows: list[dict[str, str]], fields: Sequence[str], camera_off: list[bool],
                     path: Path) -> dict[str, np.ndarray]:
    """The log's numeric columns as float arrays: NaN where attention is empty (a face whose head pose was never
    read) and in all but time, frame and track for a camera that is off; LogError for any other cell that holds no
    number."""
    numeric = [c for c in (*REQUIRED_COLUMNS, "attention", *BOX_COLUMNS) if c in fields]
    try:
        return {name: np.asarray([row[name] if row[name] or not (name == "attention" or off) else "nan"
                                  for row, off in zip(rows, camera_off)], dtype=float) for name in numeric}
    except ValueError as err:
        raise LogError(f"{path} has a non-numeric value ({err}); was it edited by hand?") from None


def _check_values(columns: dict[str, np.ndarray], camera_off: list[bool], path: Path) -> None:
    """LogError unless every time is a number of seconds from 0 to MAX_TIME_S, every frame and track id a whole
    number from 0 to MAX_WHOLE, and every probability of a face seen and every attention read from 0 to 1."""
    def whole(values: np.ndarray) -> np.ndarray:
        return (values >= 0) & (values <= MAX_WHOLE) & (values == np.round(values))

    off = np.asarray(camera_off, dtype=bool)  # their probabilities are empty
    checks = [("time_s", f"seconds from 0 to {MAX_TIME_S:g}", lambda v: (v >= 0) & (v <= MAX_TIME_S)),
              ("frame", f"a whole number from 0 to {MAX_WHOLE}", whole),
              ("track_id", f"a whole number from 0 to {MAX_WHOLE}", whole)]
    checks += [(name, "a probability from 0 to 1", lambda v: off | ((v >= 0) & (v <= 1)))
               for name in PROBABILITY_COLUMNS]
    if "attention" in columns:  # not in an older log
        checks += [("attention", "a share from 0 to 1", lambda v: np.isnan(v) | ((v >= 0) & (v <= 1)))]
    for name, kind, fine in checks:
        values = columns[name]
        bad = ~fine(values)
        if bad.any():
            row = int(np.argmax(bad)) + 2  # the file's line: the header is line 1
            raise LogError(f"{path}:{row} has {name} {values[row - 2]:g}, not {kind}; was it edited by hand?")
