"""The after-class report: one self-contained HTML page (plots embedded as PNG) and a per-student CSV."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from ferbot.clock import elapsed_text  # noqa: E402
from ferbot.console import command_word  # noqa: E402
from ferbot.emotions import CLASS_NAMES, EMOTION_COLORS  # noqa: E402
from ferbot.facelog import PROBABILITY_COLUMNS, LogError, as_spreadsheet_text, parse_log, read_log_bytes  # noqa: E402
from ferbot.files import folder_for, written_whole  # noqa: E402
from ferbot.report.attendance import ABSENT_S, LOW_ATTENTION, SUSTAINED_S  # noqa: E402
from ferbot.report.summary import MOMENT_BIN_S, PASSING_S, SessionSummary, summarize  # noqa: E402
from ferbot.track.attention import ABSOLUTE_DOWN, ABSOLUTE_UP, ABSOLUTE_YAW, WITHIN_PITCH, WITHIN_YAW

_COLORS = [np.array(EMOTION_COLORS[name]) / 255 for name in CLASS_NAMES]
STUDENT_COLUMNS = ("track_id", "first_s", "last_s", "presence", "dominant", "difficulty", "attention",
                   *PROBABILITY_COLUMNS, "name", "minutes_on_camera", "minutes_camera_off", "minutes_absent")
PLOTTED_STUDENTS = 60  # the per-student plot's most bars (an anonymous log of a long lesson can hold hundreds)
# the page's mark of the log it reports on: how many bytes of the log it read and their digest (no path, no name)
_LOG_MARK = '<meta name="ferbot-log" content="{}:{}">'
# reads a page's mark, or an older page's: the digest alone, of the whole log
_MARK_READ = re.compile(r'<meta name="ferbot-log" content="(?:(\d+):)?([0-9a-f]{16})">')


def report_paths(log_path: str | Path, out_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Where the report of the log LOG.csv goes: OUT/LOG-report.html and OUT/LOG-students.csv, named after the log
    so that no report replaces the log itself, nor one of another log of its folder. OUT defaults to the log's
    folder."""
    log_path = Path(log_path)
    out_dir = Path(out_dir) if out_dir is not None else log_path.parent
    return out_dir / f"{log_path.stem}-report.html", out_dir / f"{log_path.stem}-students.csv"


def write_report(log_path: str | Path, out_dir: str | Path | None = None,
                 before_replacing: Callable[[], object] = lambda: None) -> Path:
    """Summarise a session log into the two files of report_paths; returns the HTML path. Nothing is written
    (not even the folder) unless the log can be read, and the two files are replaced only once both are written
    whole (a full disk or Ctrl-C leaves an earlier report as it was, and no part of a new one, nor a folder made
    for it), right after `before_replacing` is called (where `ferbot report` stops taking Ctrl-C); files there that
    are not this log's report (another session's of a log of the same name, a file of the teacher's) are never
    replaced: LogError.
    The page is self-contained: nothing is fetched."""
    log_bytes = read_log_bytes(log_path)  # read once: the page's mark is of the very rows summarised
    log = parse_log(log_bytes, log_path)
    try:
        summary = summarize(log)
    except LogError as err:  # a log with no face in it
        raise LogError(f"{log_path}: {err}") from None
    page, students = report_paths(log_path, out_dir)
    mark = _LOG_MARK.format(len(log_bytes), _digest(log_bytes))
    _refuse_others(log_path, page, log_bytes, students)
    page_text = _page(summary, Path(log_path).name, mark)
    with (folder_for(page), written_whole(page, private=True) as page_draft,
          written_whole(students, private=True) as students_draft):
        _write_students_csv(summary, students_draft)
        page_draft.write_text(page_text, encoding="utf-8")
        before_replacing()
    return page


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _refuse_others(log_path: str | Path, page: Path, log_bytes: bytes, students: Path) -> None:
    """LogError if either report file exists and is not this very log's: the page's mark must be of the log's
    first bytes (a report written during the lesson is of the same log, which has grown since: a live lesson's rows
    carry the time of day, so another lesson's log never begins alike; a recording's rows, undated, could begin
    alike only for two analyses of the same recording); the students file, which carries no mark of its own, must
    have ferbot's header and lie beside that page."""
    page_ours = page.is_file() and _reports_on(page, log_bytes)
    ours = {page: page_ours,
            students: page_ours and students.is_file() and ",".join(STUDENT_COLUMNS) in _start(students)}
    for path, is_ours in ours.items():
        if path.exists() and not is_ours:
            raise LogError(f"{path} is there and is not the report of {log_path}: move it away, or write the "
                           f"report into another folder: ferbot report {command_word(str(log_path))} --out FOLDER")


def _reports_on(page: Path, log_bytes: bytes) -> bool:
    """Whether the page's mark is of the log's first bytes (an older page's, of all of them)."""
    mark = _MARK_READ.search(_start(page))
    if mark is None:
        return False
    length = int(mark[1]) if mark[1] else len(log_bytes)
    return length <= len(log_bytes) and _digest(log_bytes[:length]) == mark[2]


def _start(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read(4096)


def _when(s: SessionSummary, seconds: float) -> str:
    """A session time from its start, and the local time it was in brackets where the log says."""
    local = s.on_the_clock(seconds)
    return elapsed_text(seconds) + (f" ({local})" if local else "")


def _png(fig) -> str:
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _time_axis(ax, s: SessionSummary) -> np.ndarray:
    """Put the session's minutes on `ax`'s x-axis, the same span on every plot so that they line up; returns the
    time bins' centres in minutes."""
    minutes = s.timeline_t / 60
    ax.set(xlim=(minutes.min(), max(minutes.max(), minutes.min() + 1 / 60)), xlabel="minutes into the session")
    return minutes


def _mood_figure(s: SessionSummary) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(10, 3.6))
    minutes = _time_axis(ax, s)
    # time bins without a face (NaN) stay blank: no mood was seen there, not a calm one
    ax.stackplot(minutes, s.timeline.T, labels=CLASS_NAMES, colors=_COLORS, alpha=0.9)
    ax.plot(minutes, s.difficulty, color="black", lw=1.5, label="angry, fear, sad or surprise")
    for number, m in enumerate(s.moments, start=1):  # numbered as in the table: times side by side ran together
        ax.axvspan(m.start_s / 60, m.end_s / 60, color="black", alpha=0.12, lw=0)
        ax.annotate(str(number), ((m.start_s + m.end_s) / 120, 1.0), ha="center", va="bottom", fontsize=8)
    ax.set(ylim=(0, 1), ylabel="share of the class")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


def _attention_figure(s: SessionSummary) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(10, 1.8))
    ax.plot(_time_axis(ax, s), s.attention, color="#2a6f97")
    ax.set(ylim=(0, 1.05), yticks=(0, 0.5, 1), ylabel="facing screen")  # a class facing throughout clears the frame
    return fig


# The plots' fonts: matplotlib's own, then, where one is installed, a font with Chinese, Japanese and Korean letters
# (matplotlib takes each letter from the first font in the list that has it).
CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Source Han Sans", "Droid Sans Fallback", "WenQuanYi Zen Hei",
             "Microsoft YaHei", "Yu Gothic", "Malgun Gothic", "PingFang SC", "Hiragino Sans", "Apple SD Gothic Neo")


@cache
def _fonts() -> tuple[str, ...]:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return ("DejaVu Sans", *(name for name in CJK_FONTS if name in installed))


@cache
def _drawable() -> frozenset[int]:
    """The characters the plots' fonts can draw."""
    codes: set[int] = set()
    for name in _fonts():
        codes |= set(FT2Font(font_manager.findfont(name)).get_charmap())
    return frozenset(codes)


def _plot_label(student) -> str:
    """The student's name on a plot, or their track id where the plots' fonts lack a letter of it (many CJK
    names without a CJK font installed); the tables always show the name."""
    title = student.title
    return title if all(ord(c) in _drawable() for c in title if not c.isspace()) else f"#{student.track_id}"


def _plotted(s: SessionSummary) -> list:
    """The students the per-student plot shows: all, or the PLOTTED_STUDENTS longest on camera (in their order)."""
    if len(s.students) <= PLOTTED_STUDENTS:
        return s.students
    longest = {st.track_id for st in sorted(s.students, key=lambda st: -st.attendance.on_camera_s)[:PLOTTED_STUDENTS]}
    return [st for st in s.students if st.track_id in longest]


def _students_plot(s: SessionSummary) -> str:
    students = _plotted(s)
    # the fonts are looked up as the figure is drawn; names are text, never math ("$$ Mike $$" is a name)
    with plt.rc_context({"font.family": list(_fonts()), "text.parse_math": False}):
        return _png(_students_figure(students))


def _students_figure(students) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(10, max(1.5, 0.28 * len(students) + 0.8)))
    left = np.zeros(len(students))
    for k, name in enumerate(CLASS_NAMES):
        share = np.array([st.label_shares[name] for st in students])
        ax.barh([_plot_label(st) for st in students], share, left=left, color=_COLORS[k], label=name)
        left += share
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="share of their analysed frames the feed labelled with each emotion")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return fig


_NO_FACES = ("<p class='note'>No face was on camera in this session (every camera off): the plots and tables of "
             "emotions below are empty, and the attendance above is all this report can tell.</p>\n")
PRIVACY_ANONYMOUS = ("Students are anonymous track ids; no image was stored.")
PRIVACY_NAMED = ("This report and its log name the students: they hold personal data (each student's name with "
                 "their emotion estimates, attention and attendance, and their face's place on screen; no image). "
                 "Keep them safe: store them where only you can read them, share them with no one, and delete them "
                 "when you no longer need them.")


def _page(s: SessionSummary, log_name: str, mark: str) -> str:
    e = html.escape
    moments = "".join(
        f"<tr><td>{number}</td><td>{_when(s, m.start_s)}–{_when(s, m.end_s)}</td><td>{_when(s, m.time_s)}</td>"
        f"<td>{m.difficulty:.0%}</td><td>{e(m.main_state)}</td></tr>"
        for number, m in enumerate(s.moments, start=1)) or "<tr><td colspan=5>No moment passed the threshold.</td></tr>"
    has_attention = s.attention is not None
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">{mark}<title>ferbot session report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; margin: .5em 0 1.5em; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .3em .8em; text-align: left; }}
.note {{ background: #fff6e0; padding: .8em 1em; border-left: 4px solid #e0a000; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Session report</h1>
<p class="note">Emotion estimates come from facial expressions in 48×48 grayscale crops: a rough, often wrong
signal about the class, not a measure of any student's feelings or learning. Do not grade or single out a
student on it. {PRIVACY_NAMED if s.named else PRIVACY_ANONYMOUS}</p>
{_needs_attention(s) if s.named else ""}
<h2>Coverage</h2>
<table>
{f"<tr><th>started</th><td>{s.started.isoformat(sep=' ')}</td></tr>" if s.started else ""}
<tr><th>session length</th><td>{elapsed_text(s.duration_s)}</td></tr>
<tr><th>analysed frames with faces</th><td>{s.frames}</td></tr>
<tr><th>faces seen (summed over frames)</th><td>{s.face_rows}</td></tr>
<tr><th>students (tracks)</th><td>{len(s.students)}</td></tr>
{_passing_row(s)}{_empty_rows(s)}{_clock_jump_rows(s)}<tr><th>log</th><td>{e(log_name)}</td></tr>
</table>
{_attendance(s) if s.named else ""}
<h2>Class mood over time</h2>
{"" if any(st.dominant for st in s.students) else _NO_FACES}<p>The share of the faces on screen the feed
labelled with each emotion (as its mood panel counts them), in
{s.bin_s:.0f}-second steps, smoothed. The black line is the share labelled angry, fearful, sad or surprised.</p>
<img alt="class mood timeline" src="{_png(_mood_figure(s))}">
{_attention_section(s) if has_attention else ""}
<h2>Moments to revisit</h2>
<p>Stretches in which the feed labelled many of the faces angry, fearful, sad or surprised (times from the start
of the session{", with the time of day in brackets" if s.started else ""}, to find in a recording; numbered as on
the class-mood plot, where they are shaded): when the share of the faces so labelled peaked, in
{MOMENT_BIN_S:.0f}-second steps, that share, and the most common of those labels over the stretch.</p>
<table><tr><th>#</th><th>when</th><th>peak</th><th>share at the peak</th><th>main label</th></tr>{moments}</table>
<h2>Students</h2>
{_plot_note(s)}<img alt="per-student emotion shares" src="{_students_plot(s)}">
<table><tr><th>{"student" if s.named else "track"}</th><th>seen</th><th>presence</th><th>dominant</th>
<th>labelled difficult</th>{"<th>facing screen</th>" if has_attention else ""}</tr>
{_student_rows(s, has_attention)}</table>
{_students_legend(has_attention)}
</body></html>
"""


def _passing_row(s: SessionSummary) -> str:
    """The coverage's line on passing detections, if any."""
    if not s.passing:
        return ""
    return (f"<tr><th>faces seen for under {PASSING_S:g} s</th><td>{s.passing} (not counted as students: a face "
            "on a slide or a poster, found for a moment)</td></tr>\n")


def _empty_rows(s: SessionSummary) -> str:
    """The coverage's lines on stretches without any face on screen (everyone's absence, told once)."""
    return "".join(
        f"<tr><th>no face on screen</th><td>{_when(s, start)}–{_when(s, end)}: a break, or the meeting hidden or "
        "frozen (counted as absent for everyone, and no student's concern)</td></tr>\n" for start, end in s.empty)


def _clock_jump_rows(s: SessionSummary) -> str:
    """The coverage's lines on the computer's clock jumping (a laptop asleep at the break, or its clock set)."""
    return "".join(
        f"<tr><th>clock jumped</th><td>the computer's clock jumped {_span(seconds)} "
        f"{'ahead' if seconds > 0 else 'back'} at {elapsed_text(after)} into the session (asleep, or set); the "
        "times of day after it follow the clock</td></tr>\n" for after, seconds in s.clock_jumps)


def _span(seconds: float) -> str:
    """A length of time, in minutes from one."""
    seconds = abs(seconds)
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _students_legend(has_attention: bool) -> str:
    """What the Students table's numbers mean."""
    facing = (" <b>Facing screen</b>: the mean share of recent seconds their head was turned to the screen."
              if has_attention else "")
    return ("<p><b>Presence</b>: the share of the session their face was on camera. <b>Dominant</b>: the "
            "emotion the feed labelled their face with most often. <b>Labelled difficult</b>: the share of their "
            f"analysed frames the feed labelled angry, fearful, sad or surprised.{facing}</p>")


def _plot_note(s: SessionSummary) -> str:
    """A line saying whom the per-student plot leaves out, if anyone."""
    if len(s.students) <= PLOTTED_STUDENTS:
        return ""
    return (f"<p>The plot shows the {PLOTTED_STUDENTS} {'students' if s.named else 'tracks'} longest on camera; "
            f"the table below lists all {len(s.students)}.</p>\n")


def _student_rows(s: SessionSummary, has_attention: bool) -> str:
    e = html.escape
    return "".join(
        f"<tr><td>{e(st.title)}{'' if _plot_label(st) == st.title else f' ({_plot_label(st)})'}</td>"
        f"<td>{elapsed_text(st.first_s)}–{elapsed_text(st.last_s)}</td><td>{st.presence:.0%}</td>"
        f"<td>{e(st.dominant)}</td><td>{f'{st.difficulty:.0%}' if st.dominant else ''}</td>"
        + (f"<td>{'' if st.attention is None else f'{st.attention:.0%}'}</td>" if has_attention else "")
        + "</tr>" for st in s.students)


def _attention_section(s: SessionSummary) -> str:
    return ("<h2>Attention (facing the screen)</h2><p>The mean share of recent seconds the faces on screen "
            f"had their heads turned to their screen, smoothed: within {WITHIN_YAW:.0f}° sideways and "
            f"{WITHIN_PITCH:.0f}° up or down of each student's usual head "
            "pose over the last minutes (so a webcam above or below the screen does not count against "
            f"anyone), and never more than {ABSOLUTE_YAW:.0f}° sideways, {ABSOLUTE_UP:.0f}° up or "
            f"{ABSOLUTE_DOWN:.0f}° down. It cannot tell where the eyes "
            "look, misses some heads turned or bowed far (they can read as facing), and says nothing about "
            "whether anyone is listening.</p>"
            f"<img alt='attention over time' src='{_png(_attention_figure(s))}'>")


def _needs_attention(s: SessionSummary) -> str:
    """The students with stretches worth a look, each with the time ranges to find in a recording."""
    items = "".join(
        f"<li><b>{html.escape(st.title)}</b>: " + "; ".join(
            f"{concern.kind} " + ", ".join(f"{_when(s, a)}–{_when(s, b)}" for a, b in concern.ranges)
            for concern in st.concerns) + "</li>"
        for st in s.students if st.concerns) or "<li>No student showed a sustained sign.</li>"
    return (f"<h2>Students who may need attention</h2><p>Stretches of at least {SUSTAINED_S / 60:.0f} minute in "
            "which, most of the time, the feed labelled their face angry, fearful, sad or surprised (labelled "
            f"difficult) or they faced the screen under {LOW_ATTENTION:.0%} of the time (low attention), and "
            f"absences of {ABSENT_S / 60:g} minutes or more (neither face nor name on screen); times from the start "
            f"of the session{', with the time of day in brackets' if s.started else ''}, to look up in a recording. "
            f"A sign to check on, never a verdict.</p><ul>{items}</ul>")


def _attendance(s: SessionSummary) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(st.title)}</td><td>{st.attendance.on_camera_s / 60:.1f}</td>"
        f"<td>{st.attendance.camera_off_s / 60:.1f}</td><td>{st.attendance.absent_s / 60:.1f}</td></tr>"
        for st in sorted(s.students, key=lambda st: st.title.casefold()))
    return ("<h2>Attendance</h2><p>Minutes of the session each student was on camera, in the meeting with the "
            "camera off (their name on a tile without a face), and absent (neither).</p>"
            "<table><tr><th>student</th><th>on camera</th><th>camera off</th><th>absent</th></tr>"
            f"{rows}</table>")


def _write_students_csv(s: SessionSummary, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(STUDENT_COLUMNS)
        for st in s.students:
            # a student never on camera has no expression: blank cells, never zeros that a spreadsheet averages in
            seen = bool(st.dominant)
            writer.writerow([st.track_id, round(st.first_s, 2), round(st.last_s, 2), round(st.presence, 4),
                             st.dominant, round(st.difficulty, 4) if seen else "",
                             "" if st.attention is None else round(st.attention, 4),
                             *[st.mean_probs[name] if seen else "" for name in CLASS_NAMES],
                             as_spreadsheet_text(st.name), round(st.attendance.on_camera_s / 60, 2),
                             # an anonymous log knows no camera-off tile, and its ids reset as tiles move: no
                             # absence of a student can be told (the page leaves its attendance out too)
                             *(round(seconds / 60, 2) if s.named else ""
                               for seconds in (st.attendance.camera_off_s, st.attendance.absent_s))])
