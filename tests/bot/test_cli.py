"""The ferbot command line, run as users run it (`python -m ferbot`): help, mistakes, clean stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ferbot.report.html import report_paths
from tests.helpers.cli import STARTED, env_with, ferbot, finished, lines_until, one_error_line, started_ferbot
from tests.helpers.data import REPO, read_video
from tests.helpers.logs import face_row, log_rows, write_log


def test_help_reads_well():
    result = ferbot("--help")
    assert result.returncode == 0
    for option in ("--source", "--monitor", "--region", "--demo", "--sink", "--fps", "--size", "--checkpoint",
                   "--duration", "--log", "--exclude", "--no-report", "vcam|window|file:PATH|none", "FER Cam",
                   "--analysis-rate HZ", "'max'", "examples:", "ferbot report", "exit status"):
        assert option in result.stdout


def test_verbose_logs_the_frames_timings_and_no_librarys_debug_lines(tmp_path):
    """-v printed seven "DEBUG asyncio: Using selector: EpollSelector" lines before the timings, and a thousand of
    matplotlib's font manager while it drew the report."""
    result = ferbot("--demo", "--sink", "none", "--duration", "3", "-v", "--log", str(tmp_path / "lesson.csv"))
    assert result.returncode == 0, result.stderr[-2000:]
    debug = [line.split()[2] for line in result.stderr.splitlines() if " DEBUG " in line]
    assert "ferbot.pipeline:" in debug
    assert all(name.startswith("ferbot") for name in debug), debug


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("command", [["ferbot", "report"], ["train"], ["train", "eval"]])
def test_help_never_cuts_a_name_at_its_hyphen(command, width):
    """Help text wraps at spaces, so LOG-students.csv or fer-vgg-w320-e100 read whole on one line."""
    result = subprocess.run([sys.executable, "-m", *command, "--help"], cwd=REPO, env=env_with(COLUMNS=str(width)),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    cut = [line for line in result.stdout.splitlines() if line[-2:-1].isalnum() and line.endswith("-")]
    assert cut == []
    assert max(map(len, result.stdout.splitlines())) <= width


@pytest.mark.parametrize("args, message", [
    (["--size", "12"], "is not WxH"),
    (["--size", "100000x5"], "choose a size between"),
    (["--size", "320x180"], "choose a size between 640x360"),  # its labels covered each other and the faces
    (["--size", "720x1280"], "from square to 21:9 wide"),  # the right marker would cover the disclosure
    (["--size", "1281x721"], "give an even width and height"),  # pyvirtualcam's drivers need even sizes
    (["--monitor", "-1"], "'-1' must be a whole number of at least 0"),  # was exit 1: "no monitor -1"
    (["--region", "1,2,3"], "is not X,Y,W,H"),
    (["--region", "0,0,0,10"], "must be positive"),
    (["--sink", "webcam"], "expected vcam|window|file:PATH|none"),
    (["--sink", "file:"], "file: needs a path, e.g. file:feed.mp4"),
    (["--fps", "0"], "must be a finite number at least 1 and at most 60"),
    (["--fps", "100000"], "must be a finite number at least 1 and at most 60"),
    (["--demo", "--log", ""], "--log: the path is empty (a variable left unset?)"),
    (["--demo", "--checkpoint", " "], "--checkpoint: the path is empty"),
    (["--source", ""], "--source: the path is empty"),  # it captured the screen, as with no --source
    (["--smoothing", "-1"], "must be a finite number at least 0"),
    (["--duration", "inf"], "must be a finite number greater than 0"),
    (["--duration", "soon"], "is not a number"),
    (["--demo", "--source", "lecture.mp4"], "exclude each other"),
    (["--demo", "--source", "screen"], "exclude each other"),
    (["--source", "lecture.mp4", "--monitor", "2"], "--monitor only applies to the screen source"),
    (["--demo", "--region", "0,0,640,360"], "--region only applies to the screen source"),
    (["--monitor", "2", "--region", "0,0,640,360"], "give --region or --monitor, not both"),
    (["--demo", "--no-report"], "only applies with --log"),
    (["--analysis-rate", "0"], "greater than 0, or 'max'"),
    (["--analysis-rate", "fast"], "'fast' is not a number, or 'max'"),
    # a monitor left of the primary one has negative X (Windows, macOS): the value is read, not taken for an option
    (["--region", "-1920,0,1920,1080", "--monitor", "1"], "give --region or --monitor, not both"),
    (["--exclude", "-20,-10,320,180", "--demo", "--no-report"], "only applies with --log"),
    # a Latin-1 name on a UTF-8 system: OpenCV crashed on it (segmentation fault), leaving empty files behind
    (["--source", os.fsdecode(b"lecture\xe9.mp4")], "--source: lecture\\xe9.mp4: the name has bytes that are not"),
    (["--demo", "--sink", os.fsdecode(b"file:feed\xe9.avi")], "--sink: feed\\xe9.avi: the name has bytes"),
    (["--demo", "--log", os.fsdecode(b"caf\xe9.csv")], "--log: caf\\xe9.csv: the name has bytes"),
])
def test_usage_mistakes_get_one_line_and_status_2(args, message):
    result = ferbot(*args)
    assert result.returncode == 2
    assert message in one_error_line(result)
    assert result.stderr.count("\n") == 1


def test_no_display():
    result = ferbot("--sink", "none", env=env_with(DISPLAY=None, WAYLAND_DISPLAY=None))
    assert result.returncode == 1
    assert "DISPLAY is not set" in one_error_line(result)


def test_no_virtual_camera_driver_names_the_other_sinks():
    pytest.importorskip("pyvirtualcam")
    if any(Path("/dev").glob("video*")):
        pytest.skip("this machine has video devices (a webcam or a loopback driver), so ferbot finds a driver: the "
                    "no-driver message is tested where there are none, as on CI")
    result = ferbot("--demo")
    assert result.returncode == 1
    line = one_error_line(result)
    assert "v4l2loopback" in line and "--sink window" in line and "--sink file:PATH" in line


def test_ferbot_checkpoint_names_a_checkpoint_as_the_checkpoint_option_does():
    """$FERBOT_CHECKPOINT=fer-lite was refused as "not a checkpoint folder" while --checkpoint fer-lite ran it."""
    result = ferbot("--demo", "--sink", "none", "--duration", "1", env=env_with(FERBOT_CHECKPOINT="fer-lite"))
    assert result.returncode == 0, result.stderr
    assert f"emotion classifier: {REPO / 'checkpoints' / 'fer-lite'}" in result.stderr


@pytest.mark.parametrize("args, environment, pointer", [
    ((), None, "WEBCAM"),  # the classifier that reads calm students as calm, unless told otherwise
    (("--model", "default"), None, "DEFAULT"),
    ((), "LITE", "LITE"),  # $FERBOT_CHECKPOINT in place of the bot's own choice
    (("--model", "default"), "LITE", "DEFAULT"),  # ... but not of one named on the command line
])
def test_the_classifier_the_bot_runs(args, environment, pointer):
    checkpoints = REPO / "checkpoints"
    variable = str(checkpoints / (checkpoints / environment).read_text().strip()) if environment else None
    result = ferbot("--demo", "--sink", "none", "--duration", "1", *args, env=env_with(FERBOT_CHECKPOINT=variable))
    assert result.returncode == 0, result.stderr
    expected = checkpoints / (checkpoints / pointer).read_text().strip()
    assert f"emotion classifier: {expected}" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--demo", "--sink", "none", "--log", "old.csv"], "--log old.csv: the file exists"),  # last week's log
    (["--demo", "--sink", "file:old.avi"], "--sink file:old.avi: the file exists"),
    (["--source", "old.png", "--sink", "none", "--log", "old.png"], "--log old.png: the file exists"),  # the input
    (["--source", "old.avi", "--sink", "file:old.avi"], "--sink file:old.avi: the file exists"),
    (["--demo", "--sink", "file:new.avi", "--log", "new.avi"], "name one file"),
    (["--demo", "--sink", "none", "--log", "empty"], "--log empty is a folder; name a new file in it"),
    (["--demo", "--sink", "file:empty"], "--sink file:empty is a folder; name a new video file in it"),
    # a folder not made yet: a file named "reports" was written, and a later `mkdir reports` failed
    (["--demo", "--sink", "none", "--log", "reports/"], "--log reports/ names a folder, which does not exist"),
    (["--demo", "--sink", "file:new.avi/"], "--sink file:new.avi/ names a folder, which does not exist; create it"),
    (["--demo", "--sink", "file:new.avi", "--log", "empty/../new.avi"], "name one file"),
    (["--demo", "--sink", "file:new.avi", "--log", "new.csv", "--checkpoint", "empty"],
     "not a ferbot checkpoint (no model_card.json)"),
    (["--demo", "--sink", "file:new.avi", "--log", "new.csv", "--checkpoint", "gone"],
     "not a ferbot checkpoint (no such folder)"),
    (["--demo", "--sink", "none", "--log", "moved.csv"], "moved-report.html, the report --log moved.csv would get, "
                                                        "exists"),  # its log moved away since
    (["--demo", "--sink", "file:new.avi", "--log", "/proc/ferbot.csv"], "--log /proc/ferbot.csv: cannot write there"),
    (["--demo", "--sink", "file:/proc/ferbot.avi"], "--sink file:/proc/ferbot.avi: cannot write there"),  # not "full"
    (["--demo", "--sink", "none", "--log", "a" * 300 + ".csv"], "File name too long"),
])
def test_ferbot_never_overwrites_a_file_and_a_failed_start_leaves_none(tmp_path, args, message):
    """Each refused in one line with nothing written: the files there keep their bytes, and no new file is left
    behind (it would block the next try)."""
    for name in ("old.csv", "old.avi", "old.png", "moved-report.html"):
        (tmp_path / name).write_bytes(f"{name}: a teacher's file".encode())
    (tmp_path / "empty").mkdir()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    result = subprocess.run([sys.executable, "-m", "ferbot", *args], cwd=tmp_path, env=env_with(PYTHONPATH=str(REPO)),
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 1
    assert message in one_error_line(result)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


@pytest.mark.parametrize("folder", ["gone", "empty"])
def test_a_wrong_ferbot_checkpoint_variable_is_named(tmp_path, folder):
    (tmp_path / "empty").mkdir()
    result = ferbot("--demo", "--sink", "none", env=env_with(FERBOT_CHECKPOINT=str(tmp_path / folder)))
    assert result.returncode == 1
    assert f"$FERBOT_CHECKPOINT={tmp_path / folder} is not a checkpoint folder" in one_error_line(result)


def test_log_in_a_missing_folder(tmp_path):
    result = ferbot("--demo", "--sink", "none", "--log", str(tmp_path / "no" / "faces.csv"))
    assert result.returncode == 1
    assert "--log" in one_error_line(result)


def _network_sockets(pid: int) -> set[str]:
    """Inodes of the internet (TCP/UDP/raw) sockets a process holds; Unix sockets (the X display) excluded."""
    internet = set()
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6"):
        path = Path("/proc/net") / table
        if path.exists():
            internet |= {line.split()[9] for line in path.read_text().splitlines()[1:]}
    held = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[8:-1])
    return held & internet


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_keeps_the_outputs_and_stays_private(tmp_path):
    """Ctrl-C: exit 0 with the video finalised and the log flushed; meanwhile no network socket is open and
    nothing but the requested files is written."""
    workdir = tmp_path / "run"
    workdir.mkdir()
    video, log = workdir / "feed.avi", workdir / "faces.csv"
    bot, logged = started_ferbot("--demo", "--sink", f"file:{video}", "--log", str(log), cwd=workdir)
    time.sleep(3)  # let the feed run a little
    if Path("/proc/net/tcp").exists():
        assert _network_sockets(bot.pid) == set()
    bot.send_signal(signal.SIGINT)
    result = finished(bot, logged)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "stopping (Ctrl-C)" in result.stderr
    assert sorted(p.name for p in workdir.rglob("*")) == ["faces-report.html", "faces-students.csv", "faces.csv",
                                                          "feed.avi"]
    frames, _ = read_video(video)
    assert len(frames) >= 30  # the file was finalised: it decodes
    assert len(log_rows(log)) >= 9  # flushed, in whole rows


def test_a_ctrl_c_once_the_run_and_its_report_are_written_changes_nothing(tmp_path):
    """A run ends (--duration) and logs its report's path; a Ctrl-C right then: exit 0, no traceback, and nothing
    that says the report is missing (it printed "Exception ignored in ... KeyboardInterrupt" from Python's teardown,
    or, landing before the run's end, "stopped before the report was written" under the report's path)."""
    log = tmp_path / "faces.csv"
    bot, logged = started_ferbot("--demo", "--sink", "none", "--duration", "2", "--log", str(log))
    logged += lines_until(bot, "report:")
    bot.send_signal(signal.SIGINT)
    result = finished(bot, logged)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr and "stopped before the report was written" not in result.stderr
    assert (tmp_path / "faces-report.html").is_file() and (tmp_path / "faces-students.csv").is_file()


@pytest.mark.parametrize("after_s, stop", [(0.5, signal.SIGINT), (1.5, signal.SIGINT), (3.0, signal.SIGINT),
                                           (0.5, signal.SIGTERM)], ids=["ctrl-c 0.5s", "ctrl-c 1.5s", "ctrl-c 3s",
                                                                        "kill 0.5s"])
def test_ctrl_c_or_kill_while_ferbot_loads_its_libraries_ends_it_at_once_and_quietly(after_s, stop):
    """Ctrl-C in the seconds the libraries load (about 3.5 s on a 2-core machine), or just after: exit 0 without a
    traceback; raised inside their imports it printed one, or was swallowed by one of their callbacks and the
    run went on. `kill` then ended the process by the signal (status -15)."""
    bot = subprocess.Popen([sys.executable, "-m", "ferbot", "--demo", "--sink", "none"], cwd=REPO, env=env_with(),
                           stderr=subprocess.PIPE, text=True)
    STARTED.append(bot)
    time.sleep(after_s)
    running = bot.poll() is None
    bot.send_signal(stop)
    _, stderr = bot.communicate(timeout=60)
    assert running, f"ferbot had ended (status {bot.returncode}) before the signal: nothing was tested; {stderr}"
    assert bot.returncode == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


def test_two_quick_ctrl_cs_as_the_bot_starts_end_it_quietly():
    """The first stops the starting bot; the second landed in Python's teardown (seconds, with JAX and MediaPipe
    loaded), and the process ended by the signal (status -2)."""
    bot = subprocess.Popen([sys.executable, "-m", "ferbot", "--demo", "--sink", "none"], cwd=REPO, env=env_with(),
                           stderr=subprocess.PIPE, text=True)
    STARTED.append(bot)
    logged = lines_until(bot, "emotion classifier:")
    bot.send_signal(signal.SIGINT)
    time.sleep(0.1)
    bot.send_signal(signal.SIGINT)
    result = finished(bot, logged)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr


CTRL_C_IN_THE_REPORT = """\
import os, signal, sys, time
import ferbot.cli

def report_interrupted(*args, **kwargs):  # the teacher presses Ctrl-C again as the report is being written
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(10)

ferbot.cli.write_report = report_interrupted
sys.exit(ferbot.cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_ctrl_c_that_stops_the_report_of_a_run_says_how_to_write_it(tmp_path):
    """A second Ctrl-C that lands while the stopping run writes its report (a real SIGINT, sent from where the report
    is written): the log is kept and one warning says how to write the report (it ended silently, status 0, no
    report)."""
    script, log = tmp_path / "interrupted.py", tmp_path / "faces.csv"
    script.write_text(CTRL_C_IN_THE_REPORT)
    result = subprocess.run([sys.executable, str(script), "--demo", "--sink", "none", "--log", str(log),
                             "--duration", "4"], cwd=REPO, env=env_with(PYTHONPATH=str(REPO)), capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert f"stopped before the report was written; write it with: ferbot report {log}" in result.stderr
    assert log_rows(log) and not (tmp_path / "faces-report.html").exists()


@pytest.fixture(scope="module")
def long_lesson_log(tmp_path_factory) -> tuple[Path, float]:
    """A log of 300,000 face rows (30 students, 10,000 analyses), and how many seconds `ferbot report` takes over it
    on this machine (about 7 s on the 2-core development machine, the first 2.5 s loading its libraries): a Ctrl-C
    timed in seconds would land after the end on a faster machine. Timed on a second whole run: the first may
    build caches (matplotlib's fonts, Python's bytecode) that make it slower than the runs it times."""
    path = tmp_path_factory.mktemp("long") / "lesson.csv"
    write_log(path, [face_row(f / 2, f, t, emotion=("Happy", "Sad", "Neutral")[(f + t) % 3], x=60 * t)
                     for f in range(10_000) for t in range(1, 31)])
    for run in ("first", "timed"):
        started = time.monotonic()
        whole = ferbot("report", str(path), "--out", str(path.parent / run))
        assert whole.returncode == 0, whole.stderr
    return path, time.monotonic() - started


def _started_report(log: Path, out: Path) -> subprocess.Popen:
    """`ferbot report LOG --out OUT` started, its output read as text."""
    command = subprocess.Popen([sys.executable, "-m", "ferbot", "report", str(log), "--out", str(out)],
                               cwd=REPO, env=env_with(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(command)
    return command


@pytest.mark.slow
@pytest.mark.parametrize(("share", "stop"), [(0.07, signal.SIGINT), (0.5, signal.SIGINT), (0.5, signal.SIGTERM)],
                         ids=["Ctrl-C while loading", "Ctrl-C while reading and drawing", "kill"])  # of the whole run
def test_ctrl_c_during_the_report_command_says_nothing_was_written(long_lesson_log, tmp_path, share, stop):
    """Ctrl-C while `ferbot report` loads its libraries, or while it reads the log and draws, and `kill`: one line
    saying no report was written, exit status 1, no file in the output folder (it printed a traceback, or ended with
    status 0 and nothing written, which a script would take for success; `kill` ended it by the signal)."""
    log, whole_s = long_lesson_log
    out = tmp_path / "reports"
    command = _started_report(log, out)
    time.sleep(share * whole_s)
    command.send_signal(stop)
    stdout, stderr = command.communicate(timeout=60)
    result = subprocess.CompletedProcess(command.args, command.returncode, stdout, stderr)
    assert command.returncode == 1, stderr
    assert one_error_line(result, "ferbot report").endswith("stopped before the report was written; nothing was "
                                                            "changed"), stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not out.exists() or not any(out.iterdir())


CTRL_C_INSIDE_A_COLLECTION = """\
import gc, os, signal, sys, threading, time
import ferbot.bot, ferbot.cli, ferbot.pipeline

def ctrl_c_inside(phase, info):  # a Ctrl-C that lands while a garbage collection's callbacks run, as JAX's does
    if pressed or not armed or threading.current_thread() is not threading.main_thread():
        return
    pressed.append(phase)
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(100_000):  # the signal's handler runs in here: its KeyboardInterrupt is the callback's, dropped
        pass
    print("the Ctrl-C was not taken inside the collection", file=sys.stderr)  # the test is void

def collected_first(work):  # a collection, armed, where the work begins
    def collecting(*args, **kwargs):
        armed.append(True)
        gc.collect()
        return work(*args, **kwargs)
    return collecting

def paced_collecting(*args):  # 3 s into the feed's loop
    if not armed and time.monotonic() > started + 3:
        collected_first(lambda: None)()
    return paced(*args)

pressed, armed, paced, started = [], [], ferbot.pipeline._paced, time.monotonic()
when, argv = sys.argv[1], sys.argv[2:]  # the report's work, the bot's building, its closing, or its feed
if when == "report":
    ferbot.cli.write_report = collected_first(ferbot.cli.write_report)
elif when == "building":
    ferbot.cli.build_bot = collected_first(ferbot.cli.build_bot)
elif when == "closing":
    ferbot.bot.Bot.close = collected_first(ferbot.bot.Bot.close)
else:
    ferbot.pipeline._paced = paced_collecting
gc.callbacks.append(ctrl_c_inside)
sys.exit(ferbot.cli.main(argv))
"""


@pytest.mark.slow
def test_a_ctrl_c_lost_inside_a_garbage_collection_still_stops_the_report(tmp_path):
    """A real SIGINT handled inside a callback of the garbage collector (JAX registers one): Python drops the
    KeyboardInterrupt raised there, and `ferbot report` wrote the report, said nothing of the Ctrl-C and ended with
    status 0 after "Exception ignored ... KeyboardInterrupt" and a traceback. Now: the one line, status 1, nothing
    written."""
    script, log, out = tmp_path / "collected.py", tmp_path / "lesson.csv", tmp_path / "reports"
    script.write_text(CTRL_C_INSIDE_A_COLLECTION)
    write_log(log, [face_row(f / 2, f, t, x=60 * t) for f in range(400) for t in range(1, 6)])
    result = subprocess.run([sys.executable, str(script), "report", "report", str(log), "--out", str(out)], cwd=REPO,
                            env=env_with(PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=180)
    assert result.returncode == 1, result.stderr
    assert one_error_line(result, "ferbot report").endswith("stopped before the report was written; nothing was "
                                                            "changed")
    assert "Exception ignored" not in result.stderr and "not taken inside" not in result.stderr and not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("when, duration", [("building", 20), ("feeding", 20), ("closing", 4)])
def test_a_ctrl_c_lost_inside_a_garbage_collection_still_stops_the_bot(tmp_path, when, duration):
    """The same Ctrl-C while the bot loads its models (it stops before the feed starts), 3 s into its feed (it stops,
    and writes the report), or while the bot closes after --duration (no report, and the warning that says how to
    write it, as for a Ctrl-C not lost): the feed went on to the end of --duration as if it had not been pressed, or
    the report was written."""
    script, log = tmp_path / "collected.py", tmp_path / "faces.csv"
    script.write_text(CTRL_C_INSIDE_A_COLLECTION)
    result = subprocess.run([sys.executable, str(script), when, "--demo", "--sink", "none", "--log", str(log),
                             "--duration", str(duration)], cwd=REPO, env=env_with(PYTHONPATH=str(REPO)),
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr and "not taken inside" not in result.stderr
    report = (tmp_path / "faces-report.html").is_file()
    if when == "building":
        assert "INFO ferbot: stopped" in result.stderr and "running for" not in result.stderr, result.stderr
    elif when == "feeding":
        assert "stopping (Ctrl-C)" in result.stderr and report, result.stderr
    else:
        assert "stopped before the report was written; write it with" in result.stderr and not report, result.stderr


@pytest.mark.slow
def test_a_ctrl_c_once_the_report_is_written_changes_nothing(long_lesson_log, tmp_path):
    """Ctrl-C the moment the report's page appears (polled every millisecond), while `ferbot report` prints its
    path and exits: it ends as written, status 0 with the path, no traceback (it printed "Exception ignored ...
    KeyboardInterrupt" from Python's teardown, or was ended by the signal, status -2)."""
    log, _ = long_lesson_log
    out = tmp_path / "reports"
    command = _started_report(log, out)
    page, _ = report_paths(log, out)
    deadline = time.monotonic() + 120
    while not page.exists() and command.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    running, written = command.poll() is None, page.exists()
    command.send_signal(signal.SIGINT)
    stdout, stderr = command.communicate(timeout=60)
    assert running, f"the command had ended before the Ctrl-C: nothing was tested; {stderr}"
    assert written, stderr  # the Ctrl-C came once the page was written, not at the deadline
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert (command.returncode, stdout.strip()) == (0, str(page)), (command.returncode, stderr)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGHUP, signal.SIGTERM], ids=["terminal closed", "kill"])
def test_closing_the_terminal_or_kill_stops_as_ctrl_c_does(tmp_path, stop):
    """SIGHUP (the terminal ferbot runs in is closed) and SIGTERM: the video is finalised and the report written."""
    video, log = tmp_path / "feed.avi", tmp_path / "faces.csv"
    bot, logged = started_ferbot("--demo", "--sink", f"file:{video}", "--log", str(log))
    time.sleep(3)  # let the feed run a little
    bot.send_signal(stop)
    result = finished(bot, logged)
    assert result.returncode == 0 and f"stopping ({stop.name})" in result.stderr, result.stderr
    assert len(read_video(video)[0]) >= 10  # the file was finalised: it decodes
    assert (tmp_path / "faces-report.html").is_file()


@pytest.mark.slow
def test_under_nohup_a_closed_terminal_does_not_stop_the_run():
    """`nohup ferbot` (SIGHUP ignored when ferbot starts) goes on when its terminal closes; Ctrl-C still stops it."""
    command = ["sh", "-c", 'trap "" HUP && exec "$0" "$@"', sys.executable, "-m", "ferbot", "--demo", "--sink", "none"]
    bot = subprocess.Popen(command, cwd=REPO, env=env_with(), stderr=subprocess.PIPE, text=True)
    logged = lines_until(bot, "Ctrl-C to stop")
    bot.send_signal(signal.SIGHUP)
    time.sleep(2)
    assert bot.poll() is None, "SIGHUP stopped a run started under nohup"
    bot.send_signal(signal.SIGINT)
    result = finished(bot, logged)
    assert result.returncode == 0 and "stopping (Ctrl-C)" in result.stderr, result.stderr


@pytest.mark.slow
def test_a_ctrl_c_a_background_start_ignores_does_not_stop_it_while_it_loads():
    """A start that ignores SIGINT (`ferbot ... &` in a script) ignored it once running, but a SIGINT while the
    libraries loaded stopped it before it began."""
    command = ["sh", "-c", 'trap "" INT && exec "$0" "$@"', sys.executable, "-m", "ferbot", "--demo", "--sink", "none",
               "--duration", "2"]
    bot = subprocess.Popen(command, cwd=REPO, env=env_with(), stderr=subprocess.PIPE, text=True)
    STARTED.append(bot)
    time.sleep(1)  # loading (about 3 s)
    bot.send_signal(signal.SIGINT)
    _, stderr = bot.communicate(timeout=120)
    assert bot.returncode == 0 and "running for 2 s" in stderr and "stopping" not in stderr, stderr


def test_a_stopped_run_names_only_the_files_it_kept(tmp_path):
    """A run stopped by a lost window before its first frame had deleted its empty video ("not kept"), and then
    said "this run's files are kept, ... --sink file:VIDEO": only the files still there are named."""
    from ferbot.bot import BotOptions
    from ferbot.cli import _kept

    log, video = tmp_path / "faces.csv", tmp_path / "lesson.avi"
    log.write_text("time_s\n")
    options = BotOptions(log=str(log), sink=f"file:{video}")
    assert _kept(options) == f" (this run's files are kept, --log {log}: give the next run new names)"
    video.write_bytes(b"RIFF")
    assert f"--log {log}, --sink file:{video}:" in _kept(options)
    log.unlink()
    video.unlink()
    assert _kept(options) == ""
