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

import codecs
import contextlib
import csv
import io
import itertools
import logging
import re
from collections.abc import Iterator
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
HEAD_BYTES = 1 << 18  # the most read of a file to check its header line: more than csv's longest cell (128 KiB)
CHUNK_ROWS = 2000  # rows turned into arrays at a time: a long lesson's rows are never all held as Python strings


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


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """The numeric columns of a ferbot log as float arrays, 'name' and 'clock' as strings and 'camera_off' as
    booleans ('' and False in older logs); raises LogError when the file is not one."""
    return parse_log(read_log_bytes(path), path)


def read_log_bytes(path: str | Path) -> bytes:
    """The log file's bytes, as they are now (a running lesson's log grows), once its first line is a ferbot log's
    header (a video passed by mistake is refused before it is read whole); LogError when it cannot be read or is
    not a log."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
            _check_header(head, len(head) < HEAD_BYTES, Path(path))
            f.seek(0)
            return f.read()
    except FileNotFoundError:
        raise LogError(f"{path}: no such file; pass the CSV written by `ferbot --log PATH`") from None
    except IsADirectoryError:
        raise LogError(f"{path} is a folder; pass the CSV written by `ferbot --log PATH`") from None
    except OSError as err:
        raise LogError(f"cannot read {path}: {err.strerror or err}") from None


def _check_header(head: bytes, whole: bool, path: Path) -> None:
    """LogError unless the first line in `head`, the file's first bytes (`whole`: all of them), is a ferbot log's
    header; an empty file is left to parse_log to say so."""
    if not head or head.isspace():
        return
    with _read_as_a_log(path):
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=whole)
        _log_fields(next(csv.reader(io.StringIO(text, newline="")), []), path)


@contextlib.contextmanager
def _read_as_a_log(path: Path) -> Iterator[None]:
    """Turns what reading a file that is not text, or not CSV, raises into LogError."""
    try:
        yield
    except (UnicodeDecodeError, csv.Error) as err:
        what = "not text" if isinstance(err, UnicodeDecodeError) else err
        raise LogError(f"{path} is not a ferbot log ({what}); pass the CSV written by `ferbot --log PATH`") from None


def _log_fields(header: list[str], path: Path) -> list[str]:
    """The log's column names; LogError when one the report needs is missing."""
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise LogError(f"{path} is not a ferbot log (missing columns {', '.join(missing)}); pass the "
                       "CSV written by `ferbot --log PATH`")
    return header


def parse_log(data: bytes, path: str | Path) -> dict[str, np.ndarray]:
    """read_log's columns from a log's bytes (read_log_bytes; `path` names the log in errors), read CHUNK_ROWS rows
    at a time into arrays: a 90-minute lesson's rows held as Python strings took twenty times the log's size."""
    path = Path(path)
    if not data or data.isspace():
        raise LogError(f"{path} is empty; pass the CSV written by `ferbot --log PATH`")
    with _read_as_a_log(path):
        # -sig: a log saved again by a spreadsheet
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
        fields = _log_fields(next(reader, []), path)
        strings: dict[str, str] = {}  # one copy of each name and clock, which repeat on every row
        parts, lines = [], []  # each chunk's columns, and its rows' lines in the file
        for chunk_lines, chunk in _whole_row_chunks(reader, fields, path, ends_a_row=data.endswith(b"\n")):
            parts.append(_chunk_columns(chunk, chunk_lines, fields, path, strings))
            lines.append(np.asarray(chunk_lines, np.int64))
    columns = {name: np.concatenate([part[name] for part in parts]) if parts else _empty(name)
               for name in (*_numeric_names(fields), "name", "clock", "camera_off")}
    _check_values(columns, np.concatenate(lines or [np.zeros(0, np.int64)]), path)
    return columns


def _whole_row_chunks(reader, fields: list[str], path: Path, ends_a_row: bool
                      ) -> Iterator[tuple[list[int], list[list[str]]]]:
    """The log's rows after its header (blank lines skipped), CHUNK_ROWS at a time with each one's line in the file
    (`reader`: a csv.reader, which counts them), less a last row cut short (a run stopped while writing it: a
    column missing, or the file not ending its row where its last cell may be cut too); LogError for a row of
    another width elsewhere."""
    width, rows = len(fields), ((reader.line_num, row) for row in reader if row)
    chunk = list(itertools.islice(rows, CHUNK_ROWS))
    while chunk:
        following = list(itertools.islice(rows, CHUNK_ROWS))
        last = chunk[-1][1]
        if not following and (len(last) < width or not (ends_a_row or _last_cell_whole(last, fields))):
            log.warning("%s: its last row is cut short (the run stopped while writing it); read without it", path)
            chunk = chunk[:-1]
        lines, cells = [line for line, _ in chunk], [row for _, row in chunk]
        _check_widths(cells, lines, width, path)
        yield lines, cells
        chunk = following


def _check_widths(rows: list[list[str]], lines: list[int], width: int, path: Path) -> None:
    """LogError for a row of fewer or more cells than the header's (`lines`: each row's line in the file)."""
    short = [n for n, row in zip(lines, rows) if len(row) < width]
    if short:
        raise LogError(f"{path}:{short[0]} has too few columns; was it edited by hand?")
    long = [n for n, row in zip(lines, rows) if len(row) > width]
    if long:
        raise LogError(f"{path}:{long[0]} has too many columns (a name with a comma, saved without its quotes?); "
                       "was it edited by hand?")


def _last_cell_whole(row: list[str], fields: list[str]) -> bool:
    """Whether a row the file does not end (saved again without its final line break, or cut while written) ends
    with a whole cell: a clock as FaceLog writes it, or none (a recording's), or an older log's camera."""
    if len(row) != len(fields):
        return False
    if fields[-1] == "clock":
        return not row[-1] or _WRITTEN_CLOCK.fullmatch(row[-1]) is not None
    return fields[-1] == "camera" and row[-1] in ("on", "off")


def _numeric_names(fields: list[str]) -> list[str]:
    """The log's numeric columns (an older log has no attention, the oldest no box)."""
    return [c for c in (*REQUIRED_COLUMNS, "attention", *BOX_COLUMNS) if c in fields]


def _chunk_columns(rows: list[list[str]], lines: list[int], fields: list[str], path: Path,
                   strings: dict[str, str]) -> dict[str, np.ndarray]:
    """read_log's columns of some of the log's rows (`lines`: each one's line in the file): NaN where attention is
    empty (a face whose head pose was never read) and in all but time, frame and track for a camera that is off;
    LogError for any other cell that holds no number. `strings` keeps one copy of each name and clock read."""
    at = {name: k for k, name in enumerate(fields)}  # the last of a repeated name, as csv.DictReader read it
    cells_of = list(zip(*rows)) or [()] * len(fields)  # by column
    off = [cell == "off" for cell in cells_of[at["camera"]]] if "camera" in at else [False] * len(rows)
    columns = {}
    for name in _numeric_names(fields):
        cells = cells_of[at[name]]
        if "" in cells:  # where empty cells are allowed, NaN; elsewhere they stay, refused below
            cells = [cell if cell or not (name == "attention" or row_off) else "nan"
                     for cell, row_off in zip(cells, off)]
        try:
            columns[name] = np.asarray(cells, dtype=float)
        except ValueError:
            bad = next(n for n, cell in enumerate(cells) if not _is_number(cell))
            raise LogError(f"{path}:{lines[bad]} has {name} {cells[bad]!r}, not a number; was it edited by hand, or "
                           "two logs joined into one?") from None
    for name, read in (("name", _from_spreadsheet_text), ("clock", str)):
        cells = cells_of[at[name]] if name in at else [""] * len(rows)
        columns[name] = np.asarray([strings.setdefault(cell, cell) for cell in map(read, cells)], dtype=object)
    columns["camera_off"] = np.asarray(off, dtype=bool)
    return columns


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _empty(name: str) -> np.ndarray:
    """A column of a log without rows."""
    return np.zeros(0, dtype=bool if name == "camera_off" else object if name in ("name", "clock") else float)


def _check_values(columns: dict[str, np.ndarray], lines: np.ndarray, path: Path) -> None:
    """LogError unless every time is a number of seconds from 0 to MAX_TIME_S, every frame and track id a whole
    number from 0 to MAX_WHOLE, and every probability of a face seen and every attention read from 0 to 1 (`lines`:
    each row's line in the file)."""
    def whole(values: np.ndarray) -> np.ndarray:
        return (values >= 0) & (values <= MAX_WHOLE) & (values == np.round(values))

    off = columns["camera_off"]  # their probabilities are empty
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
            row = int(np.argmax(bad))
            raise LogError(f"{path}:{lines[row]} has {name} {values[row]:g}, not {kind}; was it edited by hand?")
