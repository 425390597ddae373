"""The after-class report from a real session log: written after a logged run, and by `ferbot report`."""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from ferbot.analysis import Analysis, CameraOff
from ferbot.detect.headpose import HeadPose
from ferbot.emotions import CLASS_NAMES
from ferbot.facelog import COLUMNS, FaceLog, LogError, read_log
from ferbot.files import written_whole
from ferbot.geometry import Rect
from ferbot.report import report_paths, write_report
from ferbot.report.summary import summarize
from ferbot.track.tracker import TrackedFace
from tests.helpers.cli import env_with, ferbot, one_error_line
from tests.helpers.logs import camera_off_row, csv_rows, face_row, log_rows, probability_row, write_log
from tests.helpers.requires import need_program


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    """A real 5-second logged demo run; returns its folder."""
    folder = tmp_path_factory.mktemp("session")
    result = ferbot("--demo", "--sink", "none", "--duration", "5", "--log", str(folder / "log.csv"))
    assert result.returncode == 0, result.stderr
    assert f"report: {folder / 'log-report.html'}" in result.stderr
    # a long lesson's report takes seconds: the run says so before (it was silent)
    assert re.search(rf"INFO ferbot: writing the report of {re.escape(str(folder / 'log.csv'))} ...\n.*report: ",
                     result.stderr), result.stderr
    return folder


def _coverage(page: str, name: str) -> int:
    return int(re.search(rf"<th>{re.escape(name)}</th><td>(\d+)</td>", page).group(1))


def _check_report(folder: Path, log: Path, min_rows: int = 10) -> None:
    """The report in `folder` matches the log (of at least `min_rows` rows): coverage numbers, one student per
    track, self-contained."""
    rows = log_rows(log)
    assert len(rows) >= min_rows
    tracks = {row["track_id"] for row in rows}
    page_path, students_path = report_paths(log, folder)
    page = page_path.read_text(encoding="utf-8")
    assert _coverage(page, "analysed frames with faces") == len({row["frame"] for row in rows})
    assert _coverage(page, "faces seen (summed over frames)") == len(rows)
    assert _coverage(page, "students (tracks)") == len(tracks)
    assert page.count("src=\"data:image/png;base64,") + page.count("src='data:image/png;base64,") >= 2
    assert "http://" not in page and "https://" not in page
    students = csv_rows(students_path)
    assert sorted(s["track_id"] for s in students) == sorted(tracks)


@pytest.mark.slow
def test_a_logged_run_writes_the_report_next_to_the_log(session):
    assert sorted(p.name for p in session.iterdir()) == ["log-report.html", "log-students.csv", "log.csv"]
    _check_report(session, session / "log.csv")


@pytest.mark.slow
def test_report_command(session, tmp_path):
    result = ferbot("report", str(session / "log.csv"), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "out" / "log-report.html")
    _check_report(tmp_path / "out", session / "log.csv")


@pytest.mark.slow
def test_a_session_of_a_few_seconds(session, tmp_path):
    """The first two and a half seconds of the real log (fewer time steps than the timeline's smoothing width): one
    analysed frame or more, as many as the machine had time for."""
    header, *lines = (session / "log.csv").read_text().splitlines(keepends=True)
    short = tmp_path / "short.csv"
    short.write_text(header + "".join(line for line in lines if float(line.split(",")[0]) < 2.5))
    assert write_report(short) == tmp_path / "short-report.html"
    _check_report(tmp_path, short, min_rows=1)


def test_a_run_whose_report_is_there_already_is_refused_naming_what_is_in_the_way(tmp_path):
    """Yesterday's report beside a log moved away: the run is refused before it starts. With yesterday's log there
    too, the log is named first (moving only the report would not do)."""
    (tmp_path / "class-report.html").write_text("yesterday")
    run = ("--demo", "--sink", "none", "--duration", "2", "--log", str(tmp_path / "class.csv"))
    assert "class-report.html, the report --log" in one_error_line(ferbot(*run))
    (tmp_path / "class.csv").write_text("yesterday")
    assert f"--log {tmp_path / 'class.csv'}: the file exists" in one_error_line(ferbot(*run))
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == ["yesterday", "yesterday"]


@pytest.mark.slow
def test_no_report_option(tmp_path):
    result = ferbot("--demo", "--sink", "none", "--duration", "2", "--log", str(tmp_path / "log.csv"), "--no-report")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


@pytest.mark.parametrize("content, message", [
    ("name,grade\nAlex,3\n", "is not a ferbot log"),
    ("", "is empty; pass the CSV written by `ferbot --log PATH`"),
    (None, "no such file"),
    (b"\x89PNG\r\n\x1a\n\xf0\x9f\x92", "is not a ferbot log (not text)"),
    (",".join(COLUMNS) + "\n", "grades.csv: the log holds no faces"),
    ("folder", "grades.csv is a folder; pass the CSV"),
    ('"' + "x" * 200_000 + '"\n', "is not a ferbot log (field larger than field limit"),  # csv's 128 KiB limit
])
def test_a_wrong_log_is_one_error_line_and_writes_nothing(tmp_path, content, message):
    fake = tmp_path / "grades.csv"
    if content == "folder":
        fake.mkdir()
    elif isinstance(content, bytes):
        fake.write_bytes(content)
    elif content is not None:
        fake.write_text(content)
    result = ferbot("report", str(fake), "--out", str(tmp_path / "reports"))
    assert result.returncode == 1
    assert message in one_error_line(result)
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == ([fake] if content is not None else [])  # not even the --out folder


def _named_log(path: Path, names: list[str], frames: int = 10, clock: str = "") -> None:
    """A log of `frames` analysed frames, 0.5 s apart, of one happy face per name, written at `clock`."""
    write_log(path, [face_row(0.5 * frame, frame, track, name, x=100 * track, clock=clock)
                     for frame in range(frames) for track, name in enumerate(names, start=1)])


def test_a_log_with_names_reads_back_whatever_the_systems_encoding(tmp_path):
    """FaceLog writes UTF-8; the report reads it so under any locale (ASCII here, cp1252 on many Windows PCs)."""
    log = tmp_path / "log.csv"
    _named_log(log, ["José Ñúñez", "李静怡"])
    ascii_locale = env_with(LC_ALL="POSIX", LANG=None, PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    result = ferbot("report", str(log), "--out", str(tmp_path / "reports"), env=ascii_locale)
    assert result.returncode == 0, result.stderr
    students = report_paths(log, tmp_path / "reports")[1].read_text(encoding="utf-8")
    assert "José Ñúñez" in students and "李静怡" in students


def test_a_last_row_cut_short_is_left_out_and_a_short_row_elsewhere_refused(tmp_path):
    """A run stopped while writing a row leaves it cut: the report reads the lesson without it. A short row
    before the last is no ferbot log's."""
    log = tmp_path / "log.csv"
    _named_log(log, ["Alex"], frames=3)
    with log.open("a", encoding="utf-8") as f:
        f.write("1.500,3,1,100,0,80,Ha\n")
    assert read_log(log)["frame"].tolist() == [0, 1, 2]
    lines = log.read_text(encoding="utf-8").splitlines()
    log.write_text("\n".join([lines[0], lines[-1], *lines[1:-1]]) + "\n", encoding="utf-8")
    with pytest.raises(LogError, match=r"log.csv:2 has too few columns"):
        read_log(log)


def test_a_row_with_too_many_columns_is_refused(tmp_path):
    """A log saved again without its quotes splits a name with a comma in two: the columns after it shifted (the
    name read "Garcia", the clock "on") and the report was written all the same."""
    log = tmp_path / "log.csv"
    _named_log(log, ["Garcia, Ana"], frames=3)
    log.write_text(log.read_text(encoding="utf-8").replace('"Garcia, Ana"', "Garcia, Ana"), encoding="utf-8")
    with pytest.raises(LogError, match=r"log.csv:2 has too many columns \(a name with a comma"):
        read_log(log)


def test_a_clock_edited_to_the_year_9999_leaves_the_time_of_day_out(tmp_path):
    """Times after the last row's (the end of Bo's absence) went past the year 9999: an OverflowError's traceback."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(t, t, 1, "Ana", clock="9999-12-31T23:59:59+00:00" if t == 199 else "")
                    for t in range(200)] + [face_row(t, t, 2, "Bo", x=100) for t in range(100)])
    page = write_report(log).read_text(encoding="utf-8")
    assert "Bo" in page and "absent 0:01:40" in page and "()" not in page


def test_ferbot_report_warns_of_a_row_cut_short_in_the_bot_s_own_log_format(tmp_path):
    log = tmp_path / "log.csv"
    _named_log(log, ["Alex"], frames=3)
    with log.open("a", encoding="utf-8") as f:
        f.write("1.500,3,1,100,0,80,Ha\n")
    result = ferbot("report", str(log))
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\d\d:\d\d:\d\d WARNING ferbot.facelog: .*log.csv: its last row is cut short", result.stderr,
                     re.MULTILINE), result.stderr


@pytest.mark.parametrize("cell, value, message", [
    ("time_s", "inf", "log.csv:3 has time_s inf, not seconds from 0 to 1e+07"),
    ("time_s", "nan", "log.csv:3 has time_s nan, not seconds from 0 to 1e+07"),
    ("time_s", "1e300", "log.csv:3 has time_s 1e+300, not seconds from 0 to 1e+07"),  # overflowed the time bins
    ("track_id", "1.5", "log.csv:3 has track_id 1.5, not a whole number"),
    ("frame", "-inf", "log.csv:3 has frame -inf, not a whole number"),
    ("track_id", "1e20", "log.csv:3 has track_id 1e+20, not a whole number from 0 to 2147483647"),  # a traceback
    ("happy", "inf", "log.csv:3 has happy inf, not a probability from 0 to 1"),
    ("sad", "-0.5", "log.csv:3 has sad -0.5, not a probability from 0 to 1"),
    ("attention", "7", "log.csv:3 has attention 7, not a share from 0 to 1"),  # "700%" facing the screen
    ("attention", "-inf", "log.csv:3 has attention -inf, not a share from 0 to 1"),
])
def test_an_impossible_time_frame_track_probability_or_attention_is_one_error_line(tmp_path, cell, value, message):
    log = tmp_path / "log.csv"
    rows = [face_row(0.5 * frame, frame, 1) for frame in range(3)]
    rows[1][COLUMNS.index(cell)] = value
    write_log(log, rows)
    result = ferbot("report", str(log))
    assert result.returncode == 1
    assert message in one_error_line(result)
    assert list(tmp_path.iterdir()) == [log]


@pytest.mark.parametrize("cut", [3, 12])
def test_a_last_row_cut_inside_its_clock_leaves_the_time_of_day_in(tmp_path, cut):
    """A run stopped while writing the last column of a row: the row has all its columns, so it was read, and its
    cut clock (naive, or no time) took the time of day out of the whole report."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(2.0 * frame, frame, 1, clock=f"2026-12-02T10:00:{2 * frame:02d}+01:00")
                    for frame in range(20)])
    log.write_bytes(log.read_bytes()[:-cut])
    assert len(read_log(log)["frame"]) == 19
    page = write_report(log).read_text(encoding="utf-8")
    assert "<tr><th>started</th><td>2026-12-02 10:00:00+01:00</td></tr>" in page


@pytest.mark.parametrize("clock", ["2026-12-02T10:00:00+01:00", ""])
def test_a_log_saved_without_its_final_line_break_keeps_its_last_row(tmp_path, clock):
    """An editor saved the log again without the line break after its last row: the row, whole, was read as cut
    short and the lesson's last moment was lost (a recording's log has no clock: its last cell is empty)."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(2.0 * frame, frame, 1, clock=clock) for frame in range(20)])
    log.write_bytes(log.read_bytes().rstrip(b"\r\n"))
    assert read_log(log)["frame"].tolist() == list(range(20))


def test_an_anonymous_log_of_many_tracks_plots_the_longest_present_and_lists_all(tmp_path):
    """Four seats for ten minutes whose ids change every 12 s (tiles that keep moving, no names): 200 tracks. The
    per-student plot grew by a bar a track (a 972x16,295 px picture for 750), and the stretches worth a look were
    worked out for every track though an anonymous report shows none."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(t, frame, 1000 * seat + int(t // 12), x=100 * seat)
                    for frame, t in enumerate(np.arange(0, 600, 2.0)) for seat in range(4)])
    summary = summarize(read_log(log))
    assert len(summary.students) == 200 and all(student.concerns == () for student in summary.students)
    page = write_report(log).read_text(encoding="utf-8")
    assert "The plot shows the 60 tracks longest on camera; the table below lists all 200." in page
    assert page.count("<tr><td>#") == 200


def test_a_clock_too_early_to_go_back_from_leaves_the_time_of_day_out(tmp_path):
    """Rows 2 s into the lesson on a clock of 0001-01-01 00:00:00: the lesson's start cannot be dated (a
    traceback)."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(5.0 + frame, frame, 1, clock="0001-01-01T00:00:00") for frame in range(3)])
    page = write_report(log).read_text(encoding="utf-8")
    assert "<th>started</th>" not in page and "time of day" not in page


def test_a_log_saved_again_by_a_spreadsheet_reads(tmp_path):
    """Spreadsheets save "CSV UTF-8" with a byte-order mark before the header."""
    log = tmp_path / "log.csv"
    _named_log(log, ["Alex"], frames=3)
    log.write_bytes(b"\xef\xbb\xbf" + log.read_bytes())
    assert read_log(log)["frame"].tolist() == [0, 1, 2]


def test_a_name_that_looks_like_a_formula_stays_text_in_the_students_file(tmp_path):
    log = tmp_path / "log.csv"
    _named_log(log, ['=HYPERLINK("http://example.com")', "-Ana", "Ana-Maria"])
    write_report(log)
    names = [row["name"] for row in csv_rows(report_paths(log)[1])]
    assert sorted(names) == ["'-Ana", "'=HYPERLINK(\"http://example.com\")", "Ana-Maria"]


def test_a_student_who_renamed_themselves_is_titled_by_their_latest_name_and_never_by_a_misreading(tmp_path):
    """María logged 120 rows as "iPad de María", then 120 as "María López": titled by the name most read, the first
    read on a tie, she was "iPad de María". Now the name most read after her first name's last reading, where 20 s of
    rows or more follow it. A name over a moving picture misread for a few seconds now and then (10 rows in every
    60) is still never the title, nor one misread as the lesson ends."""
    log = tmp_path / "log.csv"
    readings = {1: ["iPad de María"] * 120 + ["María López"] * 120,
                2: [*["Maria Fernanda" if row % 60 >= 10 else "Maria Femanda" for row in range(240)],
                    *["Maria Femanda"] * 20],
                3: ["Maria Fernanda"] * 400 + ["Maria Femanda" if row % 3 else "Maria Fernanda" for row in range(150)]}
    write_log(log, [face_row(0.4 * row, row, track, names[row], x=100 * track)
                    for track, names in readings.items() for row in range(len(names))])
    assert ferbot("report", str(log)).returncode == 0
    assert [row["name"] for row in csv_rows(report_paths(log)[1])] == ["María López", "Maria Fernanda",
                                                                        "Maria Fernanda"]


def test_a_student_is_named_by_the_plainest_reading_of_the_name_most_read(tmp_path):
    """Track 1 read whole with a stray mark, then cut short by a 7x7 gallery, then whole; track 2 read as two
    names equally often: the first read wins, whatever Python's hash seed (set order decided before); track 3 cut
    short, and read whole as two names that fit: the one read more (not the shorter)."""
    log = tmp_path / "log.csv"
    readings = {1: ["Ana Maria Gonzalez 8", *["Ana Maria Go..."] * 6, "Ana Maria Gonzalez"], 2: ["Bo", "Al"] * 4,
                3: [*["Li Wei Zh..."] * 4, *["Li Wei Zhang"] * 3, "Li Wei Zhu"]}  # the whole name read more
    write_log(log, [face_row(0.5 * frame, frame, track, names[frame], x=100 * track)
                    for frame in range(8) for track, names in readings.items()])
    for seed in ("0", "1", "2"):
        result = ferbot("report", str(log), env=env_with(PYTHONHASHSEED=seed))
        assert result.returncode == 0, result.stderr
        assert [row["name"] for row in csv_rows(report_paths(log)[1])] == ["Ana Maria Gonzalez", "Bo", "Li Wei Zhang"]


def test_a_returning_student_read_late_is_one_student(tmp_path):
    """Maria leaves for a minute; back, her face is found 2 s before her tag is read, under a passing id (3), then
    under her name's (1). The report has one Maria, on camera those 2 s too, not a third student absent all lesson
    but 2 s. A student of 30 s without a name, one read as another name, or one seen elsewhere on the screen, is
    no stub of hers; nor a face seen once where Ben was as the detector missed him once (he never left): those two,
    nameless and seen for under 10 s, are passing detections, no students at all."""
    def lesson(passing_rows):
        rows = [face_row(t, t, 2, "Ben", x=200) for t in range(0, 200) if t != 50]  # missed once
        rows += [face_row(t, t, 1, "Maria") for t in [*range(0, 60), *range(122, 200)]]
        return rows + passing_rows

    cases = {"stub": ([face_row(t, t, 3, "") for t in (120, 121)], {"Maria", "Ben"}),
             "long": ([face_row(t, t, 3, "") for t in range(91, 122)], {"Maria", "Ben", ""}),
             "other name": ([face_row(t, t, 3, "Mario") for t in (120, 121)], {"Maria", "Ben", "Mario"}),
             "elsewhere": ([face_row(t, t, 3, "", x=400) for t in (120, 121)], {"Maria", "Ben"}),
             "while Ben blinked": ([face_row(50, 50, 3, "", x=200)], {"Maria", "Ben"})}
    maria_on_camera = {}
    for case, (passing, names) in cases.items():
        log = tmp_path / f"{case.replace(' ', '-')}.csv"
        write_log(log, lesson(passing))
        write_report(log)
        students = {row["name"]: row for row in csv_rows(report_paths(log)[1])}
        assert set(students) == names, case
        # no stub of Maria's where it was seen elsewhere or where Ben was: set apart as a passing detection
        assert summarize(read_log(log)).passing == (case in ("elsewhere", "while Ben blinked")), case
        maria_on_camera[case] = 60 * float(students["Maria"]["minutes_on_camera"])
    assert maria_on_camera["stub"] == pytest.approx(maria_on_camera["other name"] + 2, abs=0.7)  # minutes to 0.01
    assert maria_on_camera["elsewhere"] == maria_on_camera["other name"]


def test_students_whose_tiles_swap_while_their_tags_go_unread_stay_two_students(tmp_path):
    """The app swaps Ana's and Bo's tiles, and their tags go unread for one analysis: their faces are logged under
    passing ids (3, 4) for it, then under their names' ids again. The report has Ana and Bo, each on camera all
    lesson; it had two more students, each absent all lesson but half a second."""
    log = tmp_path / "swap.csv"
    rows = []
    for frame in range(600):  # five minutes at two analyses a second; the swap at 150 s
        t = 0.5 * frame
        ana, bo = ((1, "Ana"), (2, "Bo")) if t != 150 else ((3, ""), (4, ""))
        rows += [face_row(t, frame, *ana, x=0 if t < 150 else 300), face_row(t, frame, *bo, x=300 if t < 150 else 0)]
    write_log(log, rows)
    write_report(log)
    students = {row["name"]: float(row["minutes_on_camera"]) for row in csv_rows(report_paths(log)[1])}
    assert students == {"Ana": pytest.approx(5, abs=0.02), "Bo": pytest.approx(5, abs=0.02)}


def test_names_with_dollar_signs_are_drawn_as_written(tmp_path):
    """Matplotlib reads text between dollar signs as math: "$$ Mike $$" failed to draw (a traceback, no report)."""
    log = tmp_path / "log.csv"
    _named_log(log, ["$$ Mike $$", "Ke$ha $1", r"$\frac{1}{0}$"])
    page = write_report(log).read_text()
    assert all(name in page for name in ("$$ Mike $$", "Ke$ha $1"))


def test_a_name_that_looks_like_a_formula_stays_text_in_the_log_and_reads_back_as_given(tmp_path):
    """Students choose their names: the bot's own log keeps one like a formula as text, and the report reads
    the name as the student wrote it (one apostrophe in the students file, not two)."""
    formula, tag = '=HYPERLINK("http://example.com")', "@everyone"
    face = TrackedFace(track_id=1, box=Rect(0, 0, 50, 50), keypoints=np.zeros((6, 2)), score=0.9,
                       probabilities=np.eye(len(CLASS_NAMES))[CLASS_NAMES.index("Happy")], last_seen=0.0,
                       pose=HeadPose(0.0, 0.0), attention=1.0, name=formula)
    log = FaceLog(tmp_path / "log.csv")
    for frame in range(3):
        log.write(Analysis(frame, 0.5 * frame, (face,), camera_off=(CameraOff(2, tag, Rect(60, 0, 50, 50)),)))
    log.close()
    assert {row["name"] for row in log_rows(tmp_path / "log.csv")} == {f"'{formula}", f"'{tag}"}
    assert set(read_log(tmp_path / "log.csv")["name"]) == {formula, tag}
    write_report(tmp_path / "log.csv")
    assert {row["name"] for row in csv_rows(report_paths(tmp_path / "log.csv")[1])} == {f"'{formula}", f"'{tag}"}


def test_the_report_never_replaces_files_that_are_not_this_log_s_report(tmp_path):
    """Monday's and Tuesday's class.csv reported into one folder, a roster named like the students file, and a
    students file left without its page: each refused in one line with nothing changed; the same log reported
    again replaces its own report."""
    for day, frames, clock in (("monday", 4, "2026-11-30T09:00:00+01:00"), ("tuesday", 6, "2026-12-01T09:00:00+01:00")):
        (tmp_path / day).mkdir()
        _named_log(tmp_path / day / "class.csv", ["Alex"], frames=frames, clock=clock)
    reports = tmp_path / "reports"
    assert ferbot("report", str(tmp_path / "monday" / "class.csv"), "--out", str(reports)).returncode == 0
    monday = {path.name: path.read_bytes() for path in reports.iterdir()}
    tuesday = ferbot("report", str(tmp_path / "tuesday" / "class.csv"), "--out", str(reports))
    assert tuesday.returncode == 1
    assert "class-report.html is there and is not the report of" in one_error_line(tuesday)
    assert {path.name: path.read_bytes() for path in reports.iterdir()} == monday
    assert ferbot("report", str(tmp_path / "monday" / "class.csv"), "--out", str(reports)).returncode == 0

    roster = tmp_path / "monday" / "class-students.csv"
    roster.write_text("name,email\nAna,ana@school.example\n")
    result = ferbot("report", str(tmp_path / "monday" / "class.csv"))
    assert result.returncode == 1
    assert "class-students.csv is there and is not the report of" in one_error_line(result)
    # a command to paste (the bot, which warns so at its end, takes no --out)
    assert f"or write the report into another folder: ferbot report {tmp_path / 'monday' / 'class.csv'} --out " \
        "FOLDER" in one_error_line(result)
    assert roster.read_text() == "name,email\nAna,ana@school.example\n"
    assert not (tmp_path / "monday" / "class-report.html").exists()

    # Monday's students file without its page (deleted, or not copied): it may be another log's; it stays
    (reports / "class-report.html").unlink()
    tuesday = ferbot("report", str(tmp_path / "tuesday" / "class.csv"), "--out", str(reports))
    assert "class-students.csv is there and is not the report of" in one_error_line(tuesday)
    assert (reports / "class-students.csv").read_bytes() == monday["class-students.csv"]


def test_a_report_asked_for_during_the_lesson_is_replaced_by_the_one_of_the_whole_lesson(tmp_path):
    """The teacher reports on the log while the run still writes it; the report of the grown log replaces it (the
    run's own at its end, or the command again), and a report from before this mark's format is still known."""
    log = tmp_path / "class.csv"
    _named_log(log, ["Alex"], frames=4, clock="2026-12-01T09:00:00+01:00")
    page, students = report_paths(log)
    write_report(log)
    with log.open("a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([face_row(0.5 * frame, frame, 1, "Alex", clock="2026-12-01T09:00:01+01:00")
                                 for frame in range(4, 10)])
    assert ferbot("report", str(log)).returncode == 0
    assert _coverage(page.read_text(encoding="utf-8"), "analysed frames with faces") == 10
    assert len(csv_rows(students)) == 1

    old_mark = f'<meta name="ferbot-log" content="{hashlib.sha256(log.read_bytes()).hexdigest()[:16]}">'
    page.write_text(re.sub(r'<meta name="ferbot-log"[^>]*>', old_mark, page.read_text(encoding="utf-8")))
    write_report(log)
    _named_log(log, ["Alex"], frames=10, clock="2026-12-02T09:00:00+01:00")  # the next lesson's, of that name
    with pytest.raises(LogError, match="is not the report of"):
        write_report(log)


def test_a_report_that_cannot_be_written_beside_its_log_points_to_out(tmp_path):
    """The report's folder refuses the file (here a folder in the way of its draft: a read-only folder does not
    refuse root): one line naming --out; `ferbot class.csv` without `report` says what to run."""
    log = tmp_path / "class.csv"
    _named_log(log, ["Alex"], frames=3)
    (tmp_path / ".class-report.html.draft").mkdir()
    assert "check that it is writable, or give --out another folder" in one_error_line(ferbot("report", str(log)))
    assert f"to write the report of a log, run: ferbot report {log}" in one_error_line(ferbot(str(log)))
    spaced = tmp_path / "my class.csv"  # quoted, so that the command can be pasted
    assert f"to write the report of a log, run: ferbot report '{spaced}'" in one_error_line(ferbot(str(spaced)))


@pytest.mark.slow
def test_a_run_whose_report_cannot_be_written_beside_its_log_says_how_to_write_it_elsewhere(tmp_path):
    """The same refusal at the end of a run: the warning named the report's hidden draft file and said nothing to
    do; it names the folder and gives the command that writes the report elsewhere. The log is kept."""
    log = tmp_path / "class.csv"
    (tmp_path / ".class-report.html.draft").mkdir()
    result = ferbot("--demo", "--sink", "none", "--duration", "3", "--log", str(log))
    assert result.returncode == 0, result.stderr
    assert f"no report written: cannot write it in {tmp_path} (" in result.stderr
    assert f"write it elsewhere with: ferbot report {log} --out FOLDER" in result.stderr
    assert ".draft" not in result.stderr and len(read_log(log)["time_s"]) > 0


def test_two_logs_joined_into_one_name_the_line_of_the_second_header(tmp_path):
    """`cat monday.csv tuesday.csv > week.csv`: the error said only that some value was not a number."""
    for day in ("monday", "tuesday"):
        _named_log(tmp_path / f"{day}.csv", ["Alex"], frames=3)
    lines = (tmp_path / "monday.csv").read_text().count("\n")
    week = tmp_path / "week.csv"  # a blank line between the two, which the log's reading skips but counts
    week.write_text((tmp_path / "monday.csv").read_text() + "\n" + (tmp_path / "tuesday.csv").read_text())
    result = ferbot("report", str(week))
    assert result.returncode == 1
    assert f"{week}:{lines + 2} has time_s 'time_s', not a number; was it edited by hand, or two logs joined into " \
        "one?" in one_error_line(result)
    rows = week.read_text().splitlines()
    rows[lines + 1] = "1e99," + rows[1].split(",", 1)[1]  # a row in its place, with a time out of range
    week.write_text("\n".join(rows) + "\n")
    assert f"{week}:{lines + 2} has time_s 1e+99, not seconds" in one_error_line(ferbot("report", str(week)))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_whose_path_cannot_be_printed_is_written_without_a_traceback(tmp_path):
    """stdout a full disk (or a pipe closed early, `| head`): a traceback after the report was written."""
    log = tmp_path / "class.csv"
    _named_log(log, ["Alex"], frames=3)
    with open("/dev/full", "w") as full:
        result = ferbot("report", str(log), stdout=full, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert all(path.exists() for path in report_paths(log))


@pytest.mark.slow
def test_reports_are_named_after_their_logs(session, tmp_path):
    """Two sessions' logs in one folder keep their own reports, and a log named like a report file survives its
    report."""
    log = (session / "log.csv").read_text()
    for name in ("monday", "tuesday", "students"):
        (tmp_path / f"{name}.csv").write_text(log)
    monday = write_report(tmp_path / "monday.csv").read_bytes()
    write_report(tmp_path / "tuesday.csv")
    write_report(tmp_path / "students.csv")
    assert (tmp_path / "monday-report.html").read_bytes() == monday
    assert (tmp_path / "students.csv").read_text() == log
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{name}{end}" for name in ("monday", "tuesday", "students")
        for end in (".csv", "-report.html", "-students.csv"))


def test_a_report_folder_that_is_a_file_is_one_error_line(tmp_path):
    taken = tmp_path / "reports"
    taken.write_text("not a folder")
    result = ferbot("report", str(tmp_path / "log.csv"), "--out", str(taken))
    assert result.returncode == 1
    assert "is a file; give a folder" in one_error_line(result)


def test_a_report_folder_named_like_a_report_file_is_one_error_line(session, tmp_path):
    """`--out myreport.html` would make a folder of that name; the teacher meant a file and is told to give a
    folder, and nothing is written."""
    result = ferbot("report", str(session / "log.csv"), "--out", str(tmp_path / "myreport.html"))
    assert result.returncode == 1
    assert "reads as a file name; give a folder" in one_error_line(result)
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_the_report_shows_attention(session):
    """The log's attention column reaches the report: a plot over time and a per-student share; the demo's
    students mostly face the camera."""
    page = (session / "log-report.html").read_text(encoding="utf-8")
    assert "Attention (facing the screen)" in page and "<th>facing screen</th>" in page
    attention = [float(s["attention"]) for s in csv_rows(session / "log-students.csv")]
    assert all(0.0 <= a <= 1.0 for a in attention)
    assert np.mean(attention) > 0.5


@pytest.mark.slow
def test_the_report_renders_in_a_headless_browser(session, tmp_path):
    """The page as a browser draws it (Debian's chromium, offline): the class-mood plot's colours show, so the
    embedded images load without any network. Skipped where chromium is not installed."""
    import cv2

    from ferbot.emotions import EMOTION_COLORS

    browser = need_program("chromium", "chromium-browser", package="chromium")
    shot = tmp_path / "report.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,2400", f"--screenshot={shot}",
                    (session / "log-report.html").as_uri()], capture_output=True, timeout=120, check=True)
    page = cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2RGB)
    assert page.shape[:2] == (2400, 1200)
    for name in ("Happy", "Neutral"):  # the demo's most common states, drawn by the embedded plots
        drawn = (np.abs(page.astype(int) - EMOTION_COLORS[name]).sum(axis=2) < 40).mean()
        assert drawn > 0.01, name  # about 0.04 with the plots, under 0.002 without them


def test_the_moments_to_revisit_are_the_class_s_difficult_peaks(tmp_path):
    """A ten-minute lesson of four students analysed every 2 s, calm but for two stretches: three of them sad from
    3:00 to 3:40, two of them angry from 7:00 to 7:40. The report's moments are those two, with the share of the
    class and the state that dominated, and nothing else."""
    from ferbot.report import summarize

    def emotion(student: int, t: float) -> str:
        if 180 <= t < 220 and student < 3:
            return "Sad"
        if 420 <= t < 460 and student < 2:
            return "Angry"
        return "Happy"

    log = tmp_path / "lesson.csv"
    write_log(log, [face_row(t, frame, student + 1, emotion=emotion(student, t), x=100 * student)
                    for frame, t in enumerate(np.arange(0, 600, 2.0)) for student in range(4)])
    moments = summarize(read_log(log)).moments
    assert [m.main_state for m in moments] == ["sad", "angry"], moments
    assert 180 <= moments[0].time_s <= 220 and moments[0].difficulty == pytest.approx(0.75, abs=0.05)
    assert 420 <= moments[1].time_s <= 460 and moments[1].difficulty == pytest.approx(0.5, abs=0.05)
    page = write_report(log).read_text(encoding="utf-8")
    assert f"<td>{moments[0].difficulty:.0%}</td><td>sad</td>" in page
    assert "<th>started</th>" not in page and "time of day" not in page  # the log has no clock times


def test_a_long_difficult_stretch_is_one_moment_and_a_short_whole_class_one_is_found(tmp_path):
    """A 90-minute lesson of four: three sad from 10:00 to 25:00, two angry from 30:00 to 32:00, and the whole class
    surprised for 30 s at 60:00. The sad stretch gave ten "moments" a minute apart, which crowded the angry one off
    the list, and the class's 30 s of surprise, smoothed over 45-second bins, passed no threshold."""
    def emotion(student: int, t: float) -> str:
        if student < 3 and 600 <= t < 1500:
            return "Sad"
        if student < 2 and 1800 <= t < 1920:
            return "Angry"
        return "Surprise" if 3600 <= t < 3630 else "Neutral"

    log = tmp_path / "lesson.csv"
    write_log(log, [face_row(t, frame, student + 1, emotion=emotion(student, t), x=100 * student)
                    for frame, t in enumerate(np.arange(0, 5400, 1.0)) for student in range(4)])
    moments = summarize(read_log(log)).moments
    assert [(m.start_s, m.end_s, m.main_state, m.difficulty) for m in moments] == [
        (600, 1500, "sad", 0.75), (1800, 1920, "angry", 0.5), (3600, 3630, "surprise", 1.0)]
    page = write_report(log).read_text(encoding="utf-8")
    assert "<tr><td>2</td><td>0:30:00–0:32:00</td><td>0:30:05</td><td>50%</td><td>angry</td></tr>" in page


def test_the_moments_are_also_given_as_the_time_of_day_the_log_records(tmp_path):
    """The lesson of the test above, its first analysis 4 s after ferbot started at 10:00 (UTC+1) by its log's
    clock column: the report says when it started (at its first analysis that logged a student, from which its
    times count), and gives each moment's time of day, to find it in a recording of the meeting."""
    from ferbot.report import summarize

    began = datetime.fromisoformat("2026-12-02T10:00:00+01:00")
    log = tmp_path / "lesson.csv"
    # each row written as its analysis ends: the first, slow to start (the OCR engine loading), 4 s late; the log
    # of a real run dated the lesson from it
    write_log(log, [face_row(t, frame, student + 1, emotion="Sad" if 180 <= t < 220 else "Happy", x=100 * student,
                             clock=(began + timedelta(seconds=t + 0.4 + 3.6 * (frame == 0))).isoformat())
                    for frame, t in enumerate(np.arange(4, 600, 2.0)) for student in range(4)])
    (moment,) = summarize(read_log(log)).moments
    page = write_report(log).read_text(encoding="utf-8")
    assert "<tr><th>started</th><td>2026-12-02 10:00:04+01:00</td></tr>" in page
    seconds = round(moment.time_s)
    assert 170 < seconds < 220
    of_day = began + timedelta(seconds=4 + seconds)
    assert f"<td>0:{seconds // 60:02d}:{seconds % 60:02d} ({of_day:%H:%M:%S})</td>" in page


def test_a_lesson_across_the_clocks_going_back_gives_its_moments_in_the_time_then(tmp_path):
    """A lesson from 02:50 summer time on the night the clocks go back at 03:00 (Berlin, 27 October 2024): its
    log's clocks change from UTC+2 to UTC+1 ten minutes in, and a moment 15 minutes in is given at 02:05 winter
    time, as a recording of the meeting shows it (it was given at 03:05, in the offset the lesson started in); the
    lesson's start and its first ten minutes in summer time, though rows written sooner after the change date the
    start as precisely (they were given in winter time, an hour early)."""
    summer, winter = timezone(timedelta(hours=2)), timezone(timedelta(hours=1))
    began = datetime(2024, 10, 27, 2, 50, tzinfo=summer)

    def local(seconds: float) -> str:
        moment = began + timedelta(seconds=seconds)
        return moment.astimezone(summer if moment < datetime(2024, 10, 27, 1, tzinfo=UTC) else winter
                                 ).isoformat(timespec="seconds")

    log = tmp_path / "lesson.csv"
    write_log(log, [face_row(t, frame, student + 1, emotion="Sad" if 880 <= t < 960 else "Happy", x=100 * student,
                             clock=local(t + (1.4 if t < 600 else 0.4)))  # written later before the change
                    for frame, t in enumerate(np.arange(0, 1500, 2.0))
                    for student in range(4)])
    (moment,) = summarize(read_log(log)).moments
    assert 880 <= moment.time_s <= 960
    page = write_report(log).read_text(encoding="utf-8")
    assert "<tr><th>started</th><td>2024-10-27 02:50:00+02:00</td></tr>" in page
    seconds = round(moment.time_s)
    assert f"<td>0:{seconds // 60:02d}:{seconds % 60:02d} (02:{seconds // 60 - 10:02d}:{seconds % 60:02d})</td>" in page
    assert summarize(read_log(log)).on_the_clock(60.0) == "02:51:00"


@pytest.mark.slow
def test_a_logged_run_records_the_time_of_day(session):
    """Each row of a real run's log holds this computer's local time, with its UTC offset, in the order of the
    analyses (a face's rows held back until its picture changes are written later, under their own time)."""
    rows = sorted(log_rows(session / "log.csv"), key=lambda row: float(row["time_s"]))
    clocks = [datetime.fromisoformat(row["clock"]) for row in rows]
    assert all(clock.utcoffset() is not None for clock in clocks)
    assert clocks == sorted(clocks) and datetime.now().astimezone() - clocks[0] < timedelta(hours=1)
    # the lesson began, at its first analysis, when the row written soonest after its frame says (the first
    # analysis was written seconds late), to within the second its clock is cut to
    origin = float(rows[0]["time_s"])
    implied = min(clock - timedelta(seconds=float(row["time_s"]) - origin) for clock, row in zip(clocks, rows))
    page = (session / "log-report.html").read_text(encoding="utf-8")
    [started] = re.findall(r"<th>started</th><td>([^<]+)</td>", page)
    assert abs(datetime.fromisoformat(started) - implied) <= timedelta(seconds=1)


@pytest.mark.slow
def test_a_recording_s_log_is_not_dated_by_the_time_of_its_analysis(tmp_path):
    """--source VIDEO: the lesson happened when it was recorded, not when ferbot analyses it, so the log's clock
    column stays empty and the report gives times into the recording only (it gave the analysis's time of day, to
    look up in the recording)."""
    from ferbot.capture.demo import DemoSource
    from tests.helpers.data import write_video

    demo, video, log = DemoSource(), tmp_path / "lesson.avi", tmp_path / "faces.csv"
    write_video(video, [demo.read().image for _ in range(30)], fps=10)
    result = ferbot("--source", str(video), "--sink", "none", "--log", str(log),
                    env=env_with(XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert result.returncode == 0, result.stderr
    rows = log_rows(log)
    assert rows and all(row["clock"] == "" for row in rows)
    page = (tmp_path / "faces-report.html").read_text(encoding="utf-8")
    assert "<th>started</th>" not in page and "time of day" not in page


def test_the_report_does_not_load_jax():
    """The report does not import the classifier's JAX and Flax (over a second of `ferbot report`'s start)."""
    probe = "import sys, ferbot.report; print(sorted(m for m in ('jax', 'flax') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env_with())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_stop_while_the_report_is_rewritten_leaves_the_earlier_one_and_no_draft(tmp_path, monkeypatch):
    """Ctrl-C arriving while the page is written (the interrupt raised from the page's write itself): the earlier
    report stays as it was and no draft is left beside it; a report for a new --out folder leaves no folder (an
    empty one was left, though the command said nothing had changed)."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(0.5 * frame, frame, 1) for frame in range(40)])
    write_report(log)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    write_text = Path.write_text

    def interrupted(path: Path, *args, **kwargs):
        if path.name.endswith("-report.html.draft"):
            raise KeyboardInterrupt
        return write_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(log)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    with pytest.raises(KeyboardInterrupt):
        write_report(log, tmp_path / "reports" / "monday")
    assert not (tmp_path / "reports").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="file modes are POSIX's")
def test_the_log_and_the_report_are_readable_by_their_owner_only(tmp_path):
    """How each student felt, under their name: the log, the report page and the students file are created for
    the user who runs ferbot only (mode 0600), whatever the umask, and a report written again stays so."""
    face = TrackedFace(track_id=1, box=Rect(0, 0, 50, 50), keypoints=np.zeros((6, 2)), score=0.9,
                       probabilities=np.eye(len(CLASS_NAMES))[CLASS_NAMES.index("Sad")], last_seen=0.0,
                       pose=HeadPose(0.0, 0.0), attention=1.0, name="Ana")
    log = FaceLog(tmp_path / "log.csv")
    for frame in range(3):
        log.write(Analysis(frame, 0.5 * frame, (face,)))
    log.close()
    page, students = report_paths(write_report(tmp_path / "log.csv").parent / "log.csv")
    page.chmod(0o644)  # made readable by all since: the report written again is private again
    write_report(tmp_path / "log.csv")
    assert {path.name: path.stat().st_mode & 0o777 for path in tmp_path.iterdir()} == {
        "log.csv": 0o600, page.name: 0o600, students.name: 0o600}


def test_a_report_file_that_cannot_be_replaced_leaves_no_draft(tmp_path):
    """The file in the way once the draft is written (a folder here; on Windows, a students file open in a
    spreadsheet): the replacing fails, and the draft with the students' names does not stay behind."""
    target = tmp_path / "class-students.csv"
    with pytest.raises(OSError), written_whole(target, private=True) as draft:
        draft.write_text("name\nAna\n")
        target.mkdir()
    assert [path.name for path in tmp_path.iterdir()] == [target.name]


def test_a_log_with_a_long_name_gets_its_report(tmp_path):
    """A log named in 236-242 characters: its report's files fit the file system's 255 bytes, their drafts
    (.NAME.draft) did not, and no report could ever be written."""
    log = tmp_path / f"{'c' * 236}.csv"
    _named_log(log, ["Alex"], frames=3)
    write_report(log)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([log.name, *(p.name for p in report_paths(log))])


def test_the_attention_plot_spans_the_same_minutes_as_the_mood_plot(tmp_path):
    """The attention plot under the mood plot covers the same minutes, so that a dip lines up with the mood above
    it (matplotlib's own margins shifted it)."""
    from matplotlib import pyplot as plt

    from ferbot.report import html

    log = tmp_path / "faces.csv"
    write_log(log, [face_row(t, t, 1, attention=0.5 + 0.4 * (t % 60 < 30)) for t in range(0, 600, 2)])
    summary = summarize(read_log(log))
    attention, mood = html._attention_figure(summary), html._mood_figure(summary)
    assert attention.axes[0].get_xlim() == mood.axes[0].get_xlim()
    plt.close(attention), plt.close(mood)


def test_a_class_facing_throughout_shows_its_line_and_a_time_without_faces_shows_no_mood(tmp_path):
    """Attention at 100% all lesson drew its line on the plot's top edge, where the frame hid it (the plot looked
    empty); the minutes between 3 and 7, when no face was on screen, were drawn as a calm class (no difficult
    states) rather than left blank."""
    from matplotlib import pyplot as plt

    from ferbot.report import html

    log = tmp_path / "faces.csv"
    write_log(log, [face_row(t, t, 1, emotion="Sad") for t in range(0, 600, 2) if not 180 <= t < 420])
    summary = summarize(read_log(log))
    attention_figure, mood_figure = html._attention_figure(summary), html._mood_figure(summary)
    attention = attention_figure.axes[0]
    assert np.nanmax(attention.lines[0].get_ydata()) == 1.0 < attention.get_ylim()[1]
    minutes, difficult = mood_figure.axes[0].lines[0].get_data()
    plt.close(attention_figure), plt.close(mood_figure)
    assert np.isnan(difficult[(minutes > 3.5) & (minutes < 6.5)]).all()
    assert difficult[minutes < 2.5].min() == pytest.approx(1.0)


# angry, disgust, fear, happy, sad, surprise, neutral: a calm face the feed labels Neutral, its difficult states
# summed at 22% (28% while tense), and a face it labels Sad, its difficult states summed at 40%
CALM = [0.05, 0.02, 0.05, 0.10, 0.08, 0.04, 0.66]
TENSE = [0.08, 0.03, 0.12, 0.00, 0.20, 0.05, 0.52]
SAD_BUT_UNSURE = [0.0, 0.0, 0.0, 0.30, 0.40, 0.0, 0.30]


def _cells(page: str, title: str) -> list[str]:
    """The cells of the Students table's row of the student `title`, after their name."""
    row = re.search(rf"<tr><td>{re.escape(title)}</td>(<td>\d+:\d\d:\d\d–.*?)</tr>", page)[1]
    return re.findall(r"<td>(.*?)</td>", row)


def test_the_report_counts_faces_by_the_label_the_feed_showed(tmp_path):
    """Ten minutes, four named students analysed every 2 s. Ana and Bo are labelled Neutral all along, tense from
    3:00 to 5:00 (their difficult states summed at 28%); Cy and Di are labelled Sad from 6:00 to 8:30 (summed at
    40%). The report said Ana was "22% difficult", gave a "28% sad" moment in which no face was labelled sad, and
    missed Cy's two and a half sad minutes; its class mood and per-student plot averaged probabilities too."""
    def probabilities(student: int, t: float) -> list[float]:
        if student >= 2 and 360 <= t < 510:
            return SAD_BUT_UNSURE
        return TENSE if 180 <= t < 300 and student < 2 else CALM

    log = tmp_path / "lesson.csv"
    write_log(log, [probability_row(t, frame, student + 1, probabilities(student, t), name, x=100 * student)
                    for frame, t in enumerate(np.arange(0, 600, 2.0))
                    for student, name in enumerate(["Ana", "Bo", "Cy", "Di"])])
    summary = summarize(read_log(log))
    assert summary.moments and all((m.main_state, round(m.difficulty, 2)) == ("sad", 0.5) and 360 <= m.time_s <= 510
                                   for m in summary.moments), summary.moments
    assert np.nanmax(summary.timeline[:, CLASS_NAMES.index("Sad")]) == pytest.approx(0.5)  # as the mood panel
    shares = {st.name: st.label_shares for st in summary.students}
    assert shares["Ana"]["Neutral"] == 1.0 and shares["Cy"]["Sad"] == 0.25
    page = write_report(log).read_text(encoding="utf-8")
    assert _cells(page, "Ana")[2:4] == ["Neutral", "0%"] and _cells(page, "Cy")[2:4] == ["Neutral", "25%"]
    assert "<b>Labelled difficult</b>: the share of their analysed frames the feed labelled" in page
    assert re.search(r"<li><b>Cy</b>: labelled difficult 0:06:00–0:08:30</li>", page), page
    assert "<li><b>Ana</b>" not in page
    students = {row["name"]: row for row in csv_rows(tmp_path / "lesson-students.csv")}
    assert students["Ana"]["difficulty"] == "0.0" and students["Cy"]["difficulty"] == "0.25"
    assert float(students["Ana"]["sad"]) == pytest.approx((0.08 * 240 + 0.2 * 60) / 300, abs=1e-4)  # still data


def test_a_sign_held_most_of_every_minute_is_a_stretch_though_seconds_without_it_come_often(tmp_path):
    """Four minutes, analysed every 0.5 s. Renée faces the screen under 40% of the time for 9 s of every 15 s
    (60%), Sora for 6 s of every 15 (40%); Ana is labelled Sad for 9 s of every 15. The 6 s in between broke every
    stretch at under 10 s: the report named no one, though it promises that a few seconds without the sign do not
    break a stretch."""
    def off_and_on(t: float, share: float) -> bool:
        return t % 15 < 15 * share

    rows = []
    for frame, t in enumerate(np.arange(0, 240, 0.5)):
        rows.append(face_row(t, frame, 1, "Renée", attention=0.2 if off_and_on(t, 0.6) else 0.9, x=0))
        rows.append(face_row(t, frame, 2, "Sora", attention=0.2 if off_and_on(t, 0.4) else 0.9, x=100))
        rows.append(face_row(t, frame, 3, "Ana", emotion="Sad" if off_and_on(t, 0.6) else "Happy", x=200))
    log = tmp_path / "lesson.csv"
    write_log(log, rows)
    concerns = {st.name: st.concerns for st in summarize(read_log(log)).students}
    assert [(c.kind, len(c.ranges)) for c in concerns["Renée"]] == [("low attention", 1)]
    assert [(c.kind, len(c.ranges)) for c in concerns["Ana"]] == [("labelled difficult", 1)]
    assert concerns["Sora"] == ()
    start, end = concerns["Renée"][0].ranges[0]
    assert start == 0.0 and end >= 225


def test_a_face_seen_for_a_moment_is_no_student(tmp_path):
    """A named lesson of six minutes, two students; a face on a slide is found in two analyses at 2:00, and another,
    on a poster, in three at 4:00 (no name read on either). They were students: counted, absent all lesson in
    the attendance, "Fear, 100% difficult" in the table, a bar in the plot and a row in the students file."""
    rows = [face_row(t, frame, student + 1, name, x=100 * student)
            for frame, t in enumerate(np.arange(0, 360, 0.5)) for student, name in enumerate(["Ana", "Bo"])]
    rows += [face_row(120 + 0.5 * k, 240 + k, 100, emotion="Fear", x=900) for k in range(2)]
    rows += [face_row(240 + 0.5 * k, 480 + k, 101, emotion="Fear", x=900) for k in range(3)]
    log = tmp_path / "lesson.csv"
    write_log(log, rows)
    summary = summarize(read_log(log))
    assert [st.name for st in summary.students] == ["Ana", "Bo"] and summary.passing == 2
    assert summary.face_rows == len(rows)  # the coverage counts every face the detector saw
    page = write_report(log).read_text(encoding="utf-8")
    assert _coverage(page, "students (tracks)") == 2
    assert "<tr><th>faces seen for under 10 s</th><td>2 (not counted as students" in page
    assert "#100" not in page and "#101" not in page and "No student showed a sustained sign." in page
    assert [row["name"] for row in csv_rows(tmp_path / "lesson-students.csv")] == ["Ana", "Bo"]


def test_a_face_seen_for_a_moment_sets_neither_the_lessons_span_nor_keeps_the_students_report_from_being_made(
        tmp_path):
    """A face on the desktop found for 2 s ten minutes before the class: the lesson ran from it, and Ana and Bo,
    there all the class, read 50% present and "absent 0:00-10:00". Two students with their cameras off and a face on
    a poster for 2 s: the report was refused ("only 1 faces each seen for under 10 s, and no student")."""
    early = [face_row(0.4 * k, k, 50, x=900) for k in range(5)]
    rows = early + [face_row(t, 1500 + frame, student + 1, name, x=100 * student)
                    for frame, t in enumerate(np.arange(600, 1200, 0.4)) for student, name in enumerate(["Ana", "Bo"])]
    write_log(tmp_path / "early.csv", rows)
    summary = summarize(read_log(tmp_path / "early.csv"))
    assert summary.passing == 1 and summary.duration_s == pytest.approx(600, abs=1)
    assert all(st.presence > 0.99 and not st.concerns for st in summary.students)
    rows = [camera_off_row(t, frame, student + 1, name)
            for frame, t in enumerate(np.arange(0, 300, 0.4)) for student, name in enumerate(["Ana", "Bo"])]
    write_log(tmp_path / "cameras-off.csv", rows + [face_row(100 + 0.4 * k, 250 + k, 9, x=900) for k in range(5)])
    summary = summarize(read_log(tmp_path / "cameras-off.csv"))
    assert [(st.name, round(st.attendance.camera_off_s)) for st in summary.students] == [("Ana", 300), ("Bo", 300)]
    assert write_report(tmp_path / "cameras-off.csv").exists()


@pytest.mark.parametrize("present, on_camera_min", [
    (lambda frame, t: t % 90 < 40, 4.7),  # on camera 40 s of every 90: "absent 0:00:40-0:09:00"
    (lambda frame, t: frame % 3 == 0, 10.0),  # found in one analysis of three: "10 min on camera" and "absent"
])
def test_a_student_on_camera_part_of_every_minute_or_missed_now_and_then_is_not_absent(tmp_path, present,
                                                                                     on_camera_min):
    """Absences are judged over a few seconds (GAP_S) with the detector's brief misses filled, as the attendance
    counts them; a flickering state (a label, attention) over a minute."""
    rows = []
    for frame, t in enumerate(np.arange(0, 600, 0.4)):
        rows.append(face_row(t, frame, 1, "Ana", x=0))
        if present(frame, t):
            rows.append(face_row(t, frame, 2, "Bo", x=100))
    write_log(tmp_path / "lesson.csv", rows)
    [bo] = [st for st in summarize(read_log(tmp_path / "lesson.csv")).students if st.name == "Bo"]
    assert bo.attendance.on_camera_s / 60 == pytest.approx(on_camera_min, abs=0.1)
    assert not bo.concerns


@pytest.mark.parametrize("every_s", [8.0, 12.0])
def test_a_lesson_analysed_every_few_seconds_has_no_false_absences(tmp_path, every_s):
    """--analysis-rate 0.125 (or a computer that manages one analysis every few seconds): every gap over 5 s was
    taken for time without faces, so a class on camera all lesson read 37% absent (56% at one analysis in 12 s),
    and Bo's five minutes of sadness, thinned out by those blank frames, were no longer a concern."""
    rows = [face_row(t, frame, student + 1, name, emotion="Sad" if name == "Bo" and 300 <= t < 600 else "Happy",
                     x=100 * student)
            for frame, t in enumerate(np.arange(0, 900, every_s)) for student, name in enumerate(["Ana", "Bo"])]
    write_log(tmp_path / "slow.csv", rows)
    ana, bo = summarize(read_log(tmp_path / "slow.csv")).students
    assert ana.attendance.absent_s == bo.attendance.absent_s == 0 and not ana.concerns
    assert [concern.kind for concern in bo.concerns] == ["labelled difficult"]


def test_a_gap_without_faces_still_reads_as_absence_in_a_slowly_analysed_lesson(tmp_path):
    """The longest step follows the log's rhythm, not the lesson's gaps: at one analysis in 8 s, three minutes
    without any face (the class left for a break) are three minutes absent, and a stretch without a face."""
    times = [t for t in np.arange(0, 900, 8.0) if not 300 <= t < 480]
    write_log(tmp_path / "break.csv", [face_row(t, frame, 1, "Ana") for frame, t in enumerate(times)])
    summary = summarize(read_log(tmp_path / "break.csv"))
    assert summary.students[0].attendance.absent_s == pytest.approx(180 - 2.5 * 8, abs=8)
    assert summary.empty == ((296.0, 480.0),)


def test_a_break_without_any_face_is_told_once_not_as_every_student_s_absence(tmp_path):
    """A 45-minute lesson whose whole class leaves the screen for five minutes (a break, or the meeting window
    hidden): every student was listed under "may need attention", absent for the break, and the coverage said
    nothing of it. Bo, away for ten minutes over it, still is."""
    def there(name, t):
        return not 1320 <= t < 1620 and not (name == "Bo" and 1200 <= t < 1800)

    rows = [face_row(t, frame, student + 1, name, x=100 * student)
            for frame, t in enumerate(np.arange(0, 2700, 1.0)) for student, name in enumerate(["Ana", "Bo", "Cy"])
            if there(name, t)]
    write_log(tmp_path / "break.csv", rows)
    summary = summarize(read_log(tmp_path / "break.csv"))
    assert summary.empty == ((1319.0, 1620.0),)
    ana, bo, cy = summary.students
    assert not ana.concerns and not cy.concerns and ana.attendance.absent_s == pytest.approx(300, abs=6)
    [absent] = bo.concerns
    assert absent.kind == "absent" and np.allclose(absent.ranges, ((1200, 1320), (1620, 1800)), atol=5)
    page = write_report(tmp_path / "break.csv").read_text(encoding="utf-8")
    assert "<tr><th>no face on screen</th><td>0:21:59–0:27:00: a break" in page


def test_times_count_from_the_first_student_not_from_when_ferbot_started(tmp_path):
    """ferbot started ten minutes before the class: the report said "started 09:59:59" and "session length 0:45:00",
    yet gave its students "seen 0:10:00-0:55:00" and a sad spell 20 minutes into the lesson at 0:30:00."""
    began = datetime.fromisoformat("2026-12-02T10:00:00+01:00")
    rows = [face_row(t, frame, student + 1, name, emotion="Sad" if 1800 <= t < 1920 else "Happy", x=100 * student,
                     clock=(began + timedelta(seconds=float(t) + 0.3)).isoformat(timespec="seconds"))
            for frame, t in enumerate(np.arange(600, 3300, 2.0)) for student, name in enumerate(["Ana", "Bo"])]
    write_log(tmp_path / "late.csv", rows)
    page = write_report(tmp_path / "late.csv").read_text(encoding="utf-8")
    assert "<tr><th>started</th><td>2026-12-02 10:10:00+01:00</td></tr>" in page
    assert "<tr><th>session length</th><td>0:45:00</td></tr>" in page
    assert "<td>Ana</td><td>0:00:00–0:44:58</td>" in page
    assert "labelled difficult 0:20:00 (10:30:00)–0:22:00 (10:32:00)" in page
    students = csv_rows(report_paths(tmp_path / "late.csv")[1])
    assert [(row["first_s"], row["last_s"]) for row in students] == [("0.0", "2698.0")] * 2


def test_a_face_before_the_class_and_a_sleep_between_do_not_date_the_lesson(tmp_path):
    """ferbot started at 10:00, a face on a poster was seen for 2 s, the laptop slept 15 minutes, and the class began
    at 10:16: the report said "started 10:01:00" (from the poster's clocks, before the jump) and that the clock
    jumped "at -1:59:02 into the session"."""
    began = datetime.fromisoformat("2026-12-02T10:00:00+01:00")

    def clock(t: float) -> str:
        return (began + timedelta(seconds=t + 0.3 + 900 * (t >= 60))).isoformat(timespec="seconds")

    rows = [face_row(t, frame, 9, x=900, clock=clock(t)) for frame, t in enumerate(np.arange(0, 2, 0.4))]
    rows += [face_row(t, 100 + frame, 1, "Ana", clock=clock(t)) for frame, t in enumerate(np.arange(60, 660, 0.4))]
    write_log(tmp_path / "log.csv", rows)
    summary = summarize(read_log(tmp_path / "log.csv"))
    assert summary.started == began + timedelta(seconds=960) and summary.clock_jumps == ()
    assert summary.on_the_clock(60) == "10:17:00"


def test_a_slowly_analysed_lesson_lists_no_usual_gap_as_time_without_faces(tmp_path):
    """One analysis every 30 s (--analysis-rate 0.033): a gap of 60 s is two of its steps, no time without faces,
    yet the coverage said "no face on screen ... counted as absent for everyone" while the student was on camera
    all lesson."""
    times = [t for t in np.arange(0, 1800, 30.0) if t != 600]
    write_log(tmp_path / "slow.csv", [face_row(t, frame, 1, "Ana") for frame, t in enumerate(times)])
    summary = summarize(read_log(tmp_path / "slow.csv"))
    assert summary.empty == () and summary.students[0].attendance.absent_s == 0


def test_the_start_is_not_a_second_early(tmp_path):
    """Capture began at 10:00:00 and each row's clock is written to the whole second (cut), 0.3 s after its frame:
    the report said "started 09:59:59", and every time of day a second early."""
    began = datetime.fromisoformat("2026-12-02T10:00:00+01:00")
    write_log(tmp_path / "log.csv", [
        face_row(t, frame, 1, "Ana", clock=(began + timedelta(seconds=float(t) + 0.3)).isoformat(timespec="seconds"))
        for frame, t in enumerate(np.arange(0, 600, 0.4))])
    summary = summarize(read_log(tmp_path / "log.csv"))
    assert summary.started == began and summary.on_the_clock(720) == "10:12:00"


def test_a_lesson_with_every_camera_off_gets_its_attendance(tmp_path):
    """Five named students with their cameras off all lesson: the report was refused ("the log holds no faces"),
    though a face on a poster seen for 2 s gave the same log a full one. It is reported, saying no face was on
    camera."""
    write_log(tmp_path / "off.csv", [camera_off_row(t, frame, student + 1, f"Student {student}")
                                     for frame, t in enumerate(np.arange(0, 600, 0.4)) for student in range(5)])
    page = write_report(tmp_path / "off.csv").read_text(encoding="utf-8")
    assert "No face was on camera in this session" in page
    students = csv_rows(report_paths(tmp_path / "off.csv")[1])
    assert [float(row["minutes_camera_off"]) for row in students] == [10.0] * 5


def test_a_moment_at_the_lesson_s_end_peaks_within_it(tmp_path):
    """A lesson of 10:02 sad for its last 2 s: the moment read 0:10:00-0:10:02 with its peak at 0:10:05, after the
    lesson, the peak being the middle of its 10-second step."""
    write_log(tmp_path / "log.csv", [face_row(t, frame, student + 1, emotion="Sad" if t >= 600 else "Happy",
                                              x=100 * student)
                                     for frame, t in enumerate(np.arange(0, 602.4, 0.4)) for student in range(2)])
    [moment] = summarize(read_log(tmp_path / "log.csv")).moments
    assert moment.start_s <= moment.time_s <= moment.end_s == pytest.approx(602.0)


def test_a_lesson_with_cameras_off_and_a_passing_face_says_no_face_was_on_camera(tmp_path):
    """Every camera off, and a face on a poster seen for 2 s: its rows hid the note that the emotion plots are
    empty because no student's face was on camera."""
    rows = [camera_off_row(t, frame, 1, "Ana") for frame, t in enumerate(np.arange(0, 300, 0.4))]
    write_log(tmp_path / "off.csv", rows + [face_row(100 + 0.4 * k, 400 + k, 9, x=900) for k in range(5)])
    assert "No face was on camera in this session" in write_report(tmp_path / "off.csv").read_text(encoding="utf-8")


def test_an_anonymous_students_file_leaves_camera_off_and_absence_blank(tmp_path):
    """Without --names there is no camera-off tile and ids reset as tiles move: a student whose camera was off for 8
    minutes read "minutes_camera_off 0.0, minutes_absent 12.92" (the page leaves attendance out for such logs)."""
    rows = [face_row(t, frame, 1) for frame, t in enumerate(np.arange(0, 1200, 1.0)) if not 300 <= t < 780]
    rows += [face_row(t, frame, 2, x=100) for frame, t in enumerate(np.arange(0, 1200, 1.0))]
    write_log(tmp_path / "anonymous.csv", rows)
    write_report(tmp_path / "anonymous.csv")
    students = csv_rows(report_paths(tmp_path / "anonymous.csv")[1])
    assert [(row["minutes_camera_off"], row["minutes_absent"]) for row in students] == [("", "")] * 2
    assert [float(row["minutes_on_camera"]) for row in students] == [12.0, 20.0]


def test_a_laptop_asleep_at_the_break_gives_the_times_of_day_after_it_by_its_clock(tmp_path):
    """A lesson from 10:00 (UTC+1), its laptop asleep for 15 minutes at 0:10:00 into the session: the session's
    time (monotonic) stood still while the clock ran on. A sad spell 0:20:00 into the session, at 10:35 by the
    clock, was given at 10:20. The first analysis, written 15 s late, is no jump."""
    began = datetime.fromisoformat("2026-12-02T10:00:00+01:00")

    def clock(t: float, frame: int) -> str:
        return (began + timedelta(seconds=t + 0.4 + 15 * (frame == 0) + 900 * (t >= 600))).isoformat()

    log = tmp_path / "lesson.csv"
    write_log(log, [face_row(t, frame, student + 1, emotion="Sad" if 1200 <= t < 1260 else "Happy",
                             x=100 * student, clock=clock(t, frame))
                    for frame, t in enumerate(np.arange(0, 1800, 2.0)) for student in range(4)])
    summary = summarize(read_log(log))
    assert summary.clock_jumps == ((598.0, 900.0),)
    assert summary.on_the_clock(60) == "10:01:00" and summary.on_the_clock(1230) == "10:35:30"
    page = write_report(log).read_text(encoding="utf-8")
    assert "<tr><th>started</th><td>2026-12-02 10:00:00+01:00</td></tr>" in page
    assert "the computer's clock jumped 15 min ahead at 0:09:58 into the session" in page
    seconds = round(summary.moments[0].time_s)
    assert f"({began + timedelta(seconds=seconds + 900):%H:%M:%S})</td><td>100%</td><td>sad</td>" in page


def test_reading_a_long_log_takes_a_few_times_its_size(tmp_path):
    """Thirty students for ten minutes at 2.5 analyses a second (45,000 rows, 6 MiB): every row read into a dict
    of strings took twenty times the log's size (1.3 GiB for a 90-minute lesson's)."""
    import tracemalloc

    log = tmp_path / "lesson.csv"
    write_log(log, [probability_row(t, frame, student + 1, CALM, f"Student {student}", x=10 * student,
                                    clock="2026-12-02T10:00:00+01:00")
                    for frame, t in enumerate(np.arange(0, 600, 0.4)) for student in range(30)])
    size = log.stat().st_size
    tracemalloc.start()
    try:
        assert len(read_log(log)["time_s"]) == 45_000
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * size, f"{peak / 2**20:.0f} MiB for a log of {size / 2**20:.0f} MiB"


def test_a_file_that_is_no_log_is_refused_by_its_first_line_before_it_is_read(tmp_path):
    """`ferbot report lesson.mp4` (or a spreadsheet of grades) read the whole file before saying it was no log."""
    import tracemalloc

    fake = tmp_path / "grades.csv"
    with fake.open("wb") as f:
        f.write(b"name,grade\nAlex,3\n")
        f.truncate(256 * 2**20)  # a large file (sparse: it takes no disk)
    tracemalloc.start()
    try:
        with pytest.raises(LogError, match="grades.csv is not a ferbot log"):
            write_report(fake)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
