"""The bot under things going wrong, run as users run it: each failure ends in a clear message, never a crash.

No face and a crowded gallery of 70 faces; the screen's resolution changing while it runs (a real Xvfb,
resized with xrandr); a monitor that does not exist; a corrupt or mismatched checkpoint; an unreadable video;
the virtual camera disappearing mid-lesson; a log or a report that cannot grow; a second Ctrl-C while the analysis
finishes; a bug of ferbot's own mid-run; and no network socket ever opened.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferbot import EmotionClassifier
from ferbot.bot import BotOptions
from ferbot.capture.demo import DEMO_NAMES, DemoSource, demo_pictures
from ferbot.capture.screen import GONE_WAIT_S
from ferbot.classify.checkpoint import save_checkpoint, shipped_checkpoint_dir
from ferbot.classify.classifier import FACES_PER_DEVICE
from ferbot.classify.model import ModelConfig, build_model
from ferbot.detect import face_crops
from ferbot.facelog import PROBABILITY_COLUMNS, read_log
from ferbot.render import OutputLayout
from tests.helpers.cli import analysed_frames, env_with, ferbot, finished, one_error_line, started_ferbot
from tests.helpers.data import REPO, fer2013_private_test, read_video, save_rgb, write_video
from tests.helpers.faces import matches
from tests.helpers.feed import screen_difference
from tests.helpers.logs import face_row, log_rows, row_box, rows_written, write_log
from tests.helpers.runs import came_true
from tests.helpers.screens import compose_gallery
from tests.helpers.xserver import kill_x_server, resized_while_running, set_resolution, shown_on_screen, xvfb


@pytest.mark.slow
def test_no_faces_runs_and_only_warns_that_there_is_no_report(tmp_path):
    """A landscape with nobody in it: exit 0, a log with its header only, one warning instead of a report."""
    height, width = 720, 1280
    sky = np.linspace((120, 170, 230), (200, 220, 240), height // 2).astype(np.uint8)
    ground = np.linspace((70, 120, 50), (40, 80, 30), height - height // 2).astype(np.uint8)
    landscape = np.repeat(np.concatenate([sky, ground])[:, None], width, axis=1)
    cv2.circle(landscape, (1000, 120), 50, (250, 230, 120), cv2.FILLED)
    log = tmp_path / "faces.csv"
    result = ferbot("--source", str(save_rgb(tmp_path / "landscape.png", landscape)), "--sink", "none",
                    "--log", str(log), "--duration", "4")
    assert result.returncode == 0, result.stderr
    assert log_rows(log) == []
    assert "Traceback" not in result.stderr and "ferbot: error" not in result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert "no report written" in warning and "no faces" in warning
    assert "taken for a profile picture and not logged" in warning  # a frozen screen's faces are, too
    assert not (tmp_path / "faces-report.html").exists()


def test_a_report_that_cannot_be_written_whole_leaves_no_part(tmp_path):
    """A disk that fills up while the report is written (`ulimit -f 16`: 16 blocks, 8 KiB under dash, 16 KiB under
    bash; the students' table fits, the page with its plots does not): one line, and neither file left to block
    the next try, nor the --out folder made for them."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(0.5 * frame, frame, 1, "Alex") for frame in range(40)])
    result = ferbot("report", str(log), "--out", str(tmp_path / "report"), file_blocks=16,
                    env=env_with(XDG_CACHE_HOME=str(tmp_path / "cache")))  # caches apart: they cannot grow either
    assert result.returncode == 1 and "cannot write the report" in one_error_line(result)
    assert not (tmp_path / "report").exists()  # nor the folder made for them


def test_a_report_rewritten_on_a_full_disk_leaves_the_earlier_one_as_it_was(tmp_path):
    """`ferbot report` asked again for a log (it rewrites its own two files) when the disk fills up: the earlier
    report stays, byte for byte."""
    log = tmp_path / "log.csv"
    write_log(log, [face_row(0.5 * frame, frame, 1, "Alex") for frame in range(40)])
    assert ferbot("report", str(log)).returncode == 0
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    result = ferbot("report", str(log), file_blocks=16, env=env_with(XDG_CACHE_HOME=str(tmp_path / "cache")))
    assert result.returncode == 1 and "cannot write the report" in one_error_line(result)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir() if path.name != "cache"} == before


@pytest.mark.slow
def test_a_log_that_cannot_grow_ends_the_run_in_one_line_and_keeps_its_rows(tmp_path):
    """A full disk, made real by a limit on file size (the shell's `ulimit -f`, RLIMIT_FSIZE; Python turns the
    kernel's SIGXFSZ into an OSError): the run stops with one error line naming the log, and the rows written
    before it read back."""
    log = tmp_path / "faces.csv"
    result = ferbot("--demo", "--sink", "none", "--log", str(log), "--no-report", "--duration", "60", file_blocks=16,
                    env=env_with(XDG_CACHE_HOME=str(tmp_path / "cache")))  # caches apart: they cannot grow either
    assert result.returncode == 1, result.stderr
    assert "cannot write any more" in one_error_line(result) and str(log) in one_error_line(result)
    assert "stopping: the log failed" in result.stderr
    assert len(read_log(log)["frame"]) > 9


@pytest.mark.slow
def test_a_log_that_cannot_take_the_last_analysis_fails_the_run(tmp_path):
    """A 3 s recording analysed once every 10 s: its first frame, an empty screen, logs nothing; its last, the demo
    gallery's nine faces, is analysed when the recording has ended, and its rows (held as faces seen once, written
    when the log closes) do not fit in the log (`ulimit -f 1`: 512 bytes under dash, 1 KiB under bash, beyond the
    header). The run fails in one line naming the log, as when the log fills up mid-run, instead of ending well with
    the last analysis missing from its log."""
    demo, video, log = DemoSource(), tmp_path / "lesson.avi", tmp_path / "faces.csv"
    empty = np.zeros_like(demo.read().image)
    write_video(video, [empty] * 10 + [demo.read().image for _ in range(20)], fps=10)
    result = ferbot("--source", str(video), "--sink", "none", "--log", str(log), "--no-report",
                    "--analysis-rate", "0.1", file_blocks=1,
                    env=env_with(XDG_CACHE_HOME=str(tmp_path / "cache")))  # caches apart: they cannot grow either
    assert "the source has ended" in result.stderr and analysed_frames(result.stderr) == 2
    assert result.returncode == 1, result.stderr
    assert "cannot write any more" in one_error_line(result) and str(log) in one_error_line(result)


@pytest.mark.slow
def test_seventy_faces_are_found_and_classified_beyond_the_largest_batch(tmp_path):
    """A 4K screenshot of a 9x8 gallery of 70 FER2013 faces: more faces than the classifier's largest batch (on two
    CPU devices, whatever this machine's core count), all found in one analysis and each given the probabilities
    the classifier gives its crop alone (none lost or shuffled between the chunks)."""
    count, devices = 70, 2
    assert count > FACES_PER_DEVICE[-1] * devices
    faces, _ = fer2013_private_test(count)
    gallery = compose_gallery(list(faces), (3840, 2160), names=[f"Student {i + 1}" for i in range(count)])
    log = tmp_path / "faces.csv"
    result = ferbot("--source", str(save_rgb(tmp_path / "gallery.png", gallery.image)), "--sink", "none",
                    "--log", str(log), "--duration", "15", env=env_with(JAX_NUM_CPU_DEVICES=str(devices)))
    assert result.returncode == 0, result.stderr
    rows = log_rows(log)
    assert rows, result.stderr  # the one picture was analysed
    rows = [r for r in rows if r["frame"] == rows[0]["frame"]]  # one analysis
    boxes = [row_box(r) for r in rows]
    found = sum(any(matches(box, truth) for box in boxes) for truth in gallery.placements)
    assert found >= 0.9 * count, f"found {found} of {count} faces"
    assert len(rows) > FACES_PER_DEVICE[-1] * devices
    logged = np.array([[float(r[c]) for c in PROBABILITY_COLUMNS] for r in rows])
    classifier = EmotionClassifier.load(model=BotOptions.model)
    alone = np.concatenate([classifier.predict_proba(crop[None]) for crop in face_crops(gallery.image, boxes)])
    np.testing.assert_allclose(logged, alone, atol=1e-4)  # the log's 4 decimals; float32 batches differ by ~1e-6
    assert (tmp_path / "faces-report.html").exists()


@pytest.mark.slow
@pytest.mark.display
def test_screen_resolution_change_is_followed(tmp_path):
    """The screen goes from 1920x1080 to 1024x768 while the bot runs: it says so and goes on analysing."""
    log, video = tmp_path / "faces.csv", tmp_path / "feed.avi"
    gallery = compose_gallery(demo_pictures(), (1024, 576), names=[f"P{i}" for i in range(6)])
    with xvfb((1920, 1080)) as display, shown_on_screen(display, gallery.image, tmp_path):
        result, [changed] = resized_while_running(display, [(1024, 768)], "--sink", f"file:{video}", "--log",
                                                  str(log), "--duration", "10", every_s=2)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "screen is now 1024x768" in result.stderr
    rows = log_rows(log)
    last = [r for r in rows if r["frame"] == rows[-1]["frame"]]
    assert float(last[0]["time_s"]) > changed + 3  # analysed well after the change ...
    assert len(last) >= 5 and all(float(r["x"]) + float(r["w"]) <= 1024 for r in last)  # ... on the new screen
    frames, _ = read_video(video)
    assert _shows(frames[0], gallery.image, (1920, 1080)) and _shows(frames[-1], gallery.image, (1024, 768))


def _shows(feed: np.ndarray, picture: np.ndarray, screen_size: tuple[int, int]) -> bool:
    """The feed frame shows a screen of this size with the picture at its top-left (the rest black)."""
    screen = np.zeros((screen_size[1], screen_size[0], 3), np.uint8)
    screen[:picture.shape[0], :picture.shape[1]] = picture
    return screen_difference(feed, screen, OutputLayout((1280, 720))) < 20


@pytest.mark.slow
@pytest.mark.display
def test_a_region_that_no_longer_fits_is_waited_for_then_ends_the_run_in_one_line(tmp_path):
    """A --region at the right of a 1920x1080 screen, showing a gallery. The screen shrinks to 1024x768 once faces are
    logged (a projector's resolution) and comes back 6 s later: the run held the region's last picture and goes on
    logging faces (it ended at once, and the lesson's next part needed a new log). It shrinks again and stays so:
    after GONE_WAIT_S, exit 1, one line, the log whole, with the faces analysed before."""
    log, screen = tmp_path / "faces.csv", np.zeros((1080, 1920, 3), np.uint8)
    screen[100:460, 1200:1840] = compose_gallery(demo_pictures()[:4], (640, 360)).image
    lit = screen.copy()  # shown in turn with the screen: the webcams change as video does, so they are logged
    lit[100:460, 1200:1840] = np.clip(screen[100:460, 1200:1840].astype(np.int16) + 8, 0, 255)
    with xvfb((1920, 1080)) as display, shown_on_screen(display, screen, tmp_path, lit):
        bot, logged = started_ferbot("--region", "1200,100,640,360", "--sink", "none", "--log", str(log),
                                     "--duration", "300", env=env_with(DISPLAY=display))  # the change ends it
        assert came_true(lambda: rows_written(log) >= 4, timeout=60), "no faces logged within a minute"
        set_resolution(display, (1024, 768))
        time.sleep(6)
        set_resolution(display, (1920, 1080))
        back = rows_written(log)
        assert came_true(lambda: rows_written(log) >= back + 8, timeout=60), "no faces logged once it was back"
        set_resolution(display, (1024, 768))
        gone = time.monotonic()
        result = finished(bot, logged)
        waited = time.monotonic() - gone
    assert result.returncode == 1, result.stderr
    assert "--region 1200,100,640,360 is no longer on the screen: holding its last picture" in result.stderr
    assert "--region 1200,100,640,360 is back on the screen" in result.stderr
    line = one_error_line(result)
    assert "screen is now 1024x768" in line and f"has not fitted inside it for {GONE_WAIT_S:.0f} s" in line
    assert GONE_WAIT_S < waited < GONE_WAIT_S + 20
    rows = log_rows(log)
    assert len(rows) >= back + 8 and all(float(r["x"]) + float(r["w"]) <= 640 for r in rows)  # whole, in the region


@pytest.mark.slow
@pytest.mark.display
def test_the_x_server_going_away_mid_lesson_stops_cleanly_with_log_and_report(tmp_path):
    """The X server quits (the desktop session ends) while the screen shows a gallery whose faces are being logged:
    exit 1 with one line saying the display is lost, after the log is flushed and the report written (mss raises
    as the dead connection closes, which once skipped the report and ended in a traceback)."""
    log, screen = tmp_path / "faces.csv", compose_gallery(demo_pictures()[:4], (1280, 720)).image
    with xvfb((1280, 720)) as display, shown_on_screen(display, screen, tmp_path, cv2.add(screen, 8)):
        bot, logged = started_ferbot("--sink", "none", "--log", str(log), "--duration", "300",
                                     env=env_with(DISPLAY=display))
        assert came_true(lambda: rows_written(log) >= 4, timeout=60), "no faces logged within a minute"
        kill_x_server(display)
        result = finished(bot, logged)
    assert result.returncode == 1, result.stderr
    line = one_error_line(result)
    assert "lost the display" in line and f"(this run's files are kept, --log {log}" in line
    assert result.stderr.rstrip().endswith(line)  # after the log and the report are done
    assert len(log_rows(log)) >= 4
    assert (tmp_path / "faces-report.html").exists() and (tmp_path / "faces-students.csv").exists()


@pytest.mark.display
def test_monitor_out_of_range():
    with xvfb() as display:
        result = ferbot("--monitor", "3", "--sink", "none", env=env_with(DISPLAY=display))
    assert result.returncode == 1
    assert "monitor 3 does not exist" in one_error_line(result)


def test_unreadable_video(tmp_path):
    fake = tmp_path / "lecture.mp4"
    fake.write_bytes(b"\x00" * 1000)
    result = ferbot("--source", str(fake), "--sink", "none")
    assert result.returncode == 1
    assert "cannot read" in one_error_line(result)
    assert result.stderr.count("\n") == 1  # FFmpeg's own complaint ("moov atom not found") is not shown


@pytest.mark.slow
def test_corrupt_checkpoint(tmp_path):
    """A copy or download stopped early: the weights' large files cut to 100 bytes (their metadata whole), then every
    file of the weights cut to 10 bytes (the metadata Orbax reads first too): each time only ferbot's own line, none
    of Orbax's parse errors before it. Then a checkpoint that is missing, without its weights, or named by its model
    card."""
    broken = tmp_path / "broken"
    shutil.copytree(shipped_checkpoint_dir(), broken)
    weights = [path for path in (broken / "weights").rglob("*") if path.is_file()]
    for keep, files in ((100, [path for path in weights if path.stat().st_size > 10_000]), (10, weights)):
        for path in files:
            path.write_bytes(path.read_bytes()[:keep])
        result = _refused(broken, "re-export it or use another checkpoint")
        assert result.stderr.count("\n") == 1, result.stderr
    _refused(tmp_path / "missing", "not a ferbot checkpoint")
    shutil.rmtree(broken / "weights")
    _refused(broken, "has a model card but no weights/ folder")
    _refused(broken / "model_card.json", "is a file; a checkpoint is the folder")


@pytest.mark.parametrize("card, message", [
    (b"\xff\xfe{}", "model_card.json is unreadable"),  # not UTF-8: saved in another encoding, or corrupt
    (b'{"architecture": {"config": null}}', "has no usable architecture"),
    (b'{"architecture": {"config": [32, 64]}}', "has no usable architecture"),
    (b'["fer-vgg"]', "has no usable architecture"),
], ids=["not-utf8", "config-null", "config-a-list", "card-a-list"])
def test_a_model_card_that_is_not_one_is_refused_in_one_line(tmp_path, card, message):
    (tmp_path / "model_card.json").write_bytes(card)
    _refused(tmp_path, message)


def _refused(checkpoint: Path, message: str) -> subprocess.CompletedProcess:
    """The bot refuses `--checkpoint checkpoint` in one line holding `message`, with exit status 1; its run."""
    result = ferbot("--demo", "--sink", "none", "--checkpoint", str(checkpoint))
    assert result.returncode == 1
    assert message in one_error_line(result)
    return result


@pytest.mark.slow
def test_checkpoint_whose_card_does_not_match_its_weights(tmp_path):
    """A valid checkpoint whose model card promises narrower layers than its weights have."""
    edited = tmp_path / "edited"
    shutil.copytree(shipped_checkpoint_dir(), edited)
    card = json.loads((edited / "model_card.json").read_text())
    card["architecture"]["config"]["widths"] = [16, 32, 64, 128]
    (edited / "model_card.json").write_text(json.dumps(card))
    result = ferbot("--demo", "--sink", "none", "--checkpoint", str(edited))
    assert result.returncode == 1
    assert "does not match its model card: weight blocks/0/conv/kernel" in one_error_line(result)
    assert result.stderr.count("\n") < 5, result.stderr  # no pages of Orbax read errors


@pytest.mark.slow
def test_checkpoint_of_another_task(tmp_path):
    """A valid, consistent checkpoint of a 5-class model: not one the bot can use."""
    config = ModelConfig(widths=(8, 16), dense=16, num_classes=5)
    save_checkpoint(tmp_path / "five", build_model(config),
                    {"name": "five", "architecture": {"config": dataclasses.asdict(config)}})
    _refused(tmp_path / "five", "tells 5 classes apart")


@pytest.mark.slow
def test_virtual_camera_disappearing_stops_cleanly_with_log_and_report(tmp_path):
    """DRIVER MOCK: ferbot with a virtual camera device that goes away mid-lesson in place of the driver
    (tests/helpers/vcam.py): exit 1 with one line, the log whole, the report written."""
    log = tmp_path / "faces.csv"
    lose_camera = ("import sys, pyvirtualcam.camera; from tests.helpers.vcam import VanishingDevice; "
                   "pyvirtualcam.camera.BACKENDS = {'v4l2loopback': VanishingDevice}; from ferbot.cli import main; "
                   "sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", lose_camera, "--demo", "--log", str(log), "--duration", "120"],
                            cwd=REPO, env=env_with(), capture_output=True, text=True, timeout=180)
    assert result.returncode == 1, result.stderr
    assert "virtual camera stopped taking frames" in one_error_line(result)
    assert f"(this run's files are kept, --log {log}: give the next run new names)" in one_error_line(result)
    assert result.stderr.rstrip().endswith(one_error_line(result))  # after the log and the report are done
    assert len(log_rows(log)) >= 9  # the faces analysed before the camera went, in whole rows
    assert (tmp_path / "faces-report.html").exists() and (tmp_path / "faces-students.csv").exists()


NO_INTERNET = '''\
"""Test harness (PYTHONPATH): internet sockets fail, and every attempt is recorded; Unix sockets (X11) work."""
import os
import socket
import traceback


class _NoInternetSocket(socket.socket):
    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is None and family in (-1, socket.AF_INET, socket.AF_INET6):
            with open(os.environ["FERBOT_SOCKET_ATTEMPTS"], "a") as record:
                record.write("".join(traceback.format_stack(limit=6)) + "\\n")
            raise PermissionError("network access is disabled in this test")
        super().__init__(family, type, proto, fileno)


socket.socket = _NoInternetSocket
'''


@pytest.mark.slow
@pytest.mark.parametrize("names", [False, True], ids=["plain", "names"])
def test_a_whole_run_opens_no_network_socket(tmp_path, names):
    """A logged run with a file feed and its report, in a Python where creating an internet socket fails and
    is recorded: it succeeds, and nothing tried. With --names too: the OCR engine loads its bundled models and
    reads the tags without a network."""
    harness, attempts = tmp_path / "harness", tmp_path / "socket_attempts.txt"
    harness.mkdir()
    (harness / "sitecustomize.py").write_text(NO_INTERNET)
    attempts.touch()
    video, log = tmp_path / "feed.avi", tmp_path / "faces.csv"
    check = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(('127.0.0.1', 9))"],
                           env=env_with(PYTHONPATH=str(harness), FERBOT_SOCKET_ATTEMPTS=str(attempts)),
                           capture_output=True, text=True)
    assert "network access is disabled" in check.stderr and attempts.read_text()  # the harness works
    attempts.write_text("")
    result = ferbot("--demo", "--sink", f"file:{video}", "--log", str(log), "--duration", "8",
                    *(["--names"] if names else []),
                    env=env_with(PYTHONPATH=str(harness), FERBOT_SOCKET_ATTEMPTS=str(attempts)))
    assert result.returncode == 0, result.stderr
    assert attempts.read_text() == "", attempts.read_text()
    assert len(read_video(video)[0]) > 30 and log_rows(log) and (tmp_path / "faces-report.html").exists()
    assert {row["name"] for row in log_rows(log)} <= (set(DEMO_NAMES) if names else {""})
    assert (not names) or {row["name"] for row in log_rows(log)} & set(DEMO_NAMES), "no name read"


ORT_CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "TF_BUILD", "JENKINS_URL", "TRAVIS", "CIRCLECI", "BUILDKITE",
                    "TEAMCITY_VERSION", "CODEBUILD_BUILD_ID", "BITBUCKET_BUILD_NUMBER")


@pytest.mark.slow
def test_names_leave_no_telemetry_of_onnxruntime_on_disk(tmp_path):
    """onnxruntime (under the OCR) keeps a device id and queues usage events for Microsoft under the cache folder
    unless told not to, or unless it runs on a CI service (it looks for their variables, so they are removed
    here): a --names run writes none of it."""
    home = tmp_path / "home"
    home.mkdir()
    not_ci = {variable: None for variable in ORT_CI_VARIABLES}
    result = ferbot("--demo", "--sink", "none", "--names", "--duration", "6",
                    env=env_with(HOME=str(home), XDG_CACHE_HOME=None, **not_ci))
    assert result.returncode == 0, result.stderr
    assert (home / ".cache").is_dir()  # the cache folder is where onnxruntime would write
    assert not [p for p in home.rglob("*") if "Microsoft" in p.parts or "onnxruntime" in p.name], \
        sorted(str(p.relative_to(home)) for p in home.rglob("*"))


@pytest.mark.display
def test_a_run_caches_only_what_the_readme_lists(tmp_path):
    """On a desktop (a real X screen), MediaPipe's detector opens an OpenGL context, and Mesa kept a shader cache of
    1.3 MB beside ferbot's: README lists only the classifier's compiled code and matplotlib's font list."""
    with xvfb((1280, 720)) as display:
        result = ferbot("--demo", "--sink", "none", "--duration", "4",
                        env=env_with(DISPLAY=display, XDG_CACHE_HOME=str(tmp_path / "cache"),
                                     MESA_SHADER_CACHE_DISABLE=None))  # set here by a detector an earlier test made
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["ferbot", "matplotlib"]


def _interrupt_once_waiting(warnings: Callable[[], int], warned: int, interrupt: bool = True) -> bool:
    """Send the main thread a real SIGINT (if `interrupt`) once it is blocked in wait_through_interrupts' wait for
    the analysis, after `warned` "finishing the current analysis" warnings, i.e. after that many interrupts were
    taken (so the signal lands inside the wait, never before it or between two waits); False, sending nothing, if
    it is not there within 30 s."""
    from ferbot.pipeline import wait_through_interrupts

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        frame, callee = sys._current_frames().get(threading.main_thread().ident), None
        while frame is not None and frame.f_code is not wait_through_interrupts.__code__:
            frame, callee = frame.f_back, frame
        if frame is not None and callee.f_code is threading.Event.wait.__code__ and warnings() == warned:
            if interrupt:
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            return True
        time.sleep(0.005)
    return False


def test_a_second_interrupt_while_the_analysis_finishes_waits_for_it(caplog):
    """Ctrl-C twice (or a SIGTERM after Ctrl-C): the second arrives while the pipeline waits for the analysis to
    end, which must still finish before the log and the sink close; a third stops at once (an analysis that
    hangs). Real SIGINTs, sent to the main thread by a helper thread once it is blocked in the wait for `done`."""
    from ferbot.pipeline import wait_through_interrupts

    def warnings() -> int:
        return sum("finishing the current analysis" in record.getMessage() for record in caplog.records)

    def one_interrupt_then_finish() -> None:
        _interrupt_once_waiting(warnings, 0)
        _interrupt_once_waiting(warnings, 1, interrupt=False)  # back in the wait: the interrupt did not end it
        done.set()

    def two_interrupts_and_a_hang() -> None:
        _interrupt_once_waiting(warnings, 0) and _interrupt_once_waiting(warnings, 1)
        released.wait(30)  # the analysis ends only when the test is over (or the wait ignored both interrupts)
        done.set()

    done, released = threading.Event(), threading.Event()
    helper = threading.Thread(target=one_interrupt_then_finish, daemon=True)
    helper.start()
    try:
        wait_through_interrupts(done)
    except KeyboardInterrupt:
        pytest.fail("one interrupt cut the wait for the analysis short")
    helper.join()
    assert warnings() == 1

    caplog.clear()
    done = threading.Event()
    helper = threading.Thread(target=two_interrupts_and_a_hang, daemon=True)
    helper.start()
    with pytest.raises(KeyboardInterrupt):
        wait_through_interrupts(done)
    assert not done.is_set()  # stopped at once, not once the analysis ended
    released.set()
    helper.join()


BUG_CHILD = """
import sys
import ferbot.analysis
from ferbot.__main__ import run

analyze, calls = ferbot.analysis.FrameAnalyzer.analyze, []
def analyze_with_a_bug(self, frame):  # a fault injected, standing for any bug of ferbot's own
    calls.append(frame.index)
    if len(calls) == 3:
        raise RuntimeError("a bug inside the analysis")
    return analyze(self, frame)
ferbot.analysis.FrameAnalyzer.analyze = analyze_with_a_bug
sys.exit(run())
"""


@pytest.mark.slow
def test_a_bug_mid_run_keeps_the_log_and_gives_the_command_for_its_report(tmp_path):
    """A fault of ferbot's own mid-run (injected into the analysis: no input makes one on purpose) ends it with its
    traceback, as a bug should, and no report; the log so far is kept, and a line before the traceback gives the
    command that writes its report (nothing said so: the teacher was left with a traceback and no report)."""
    log = tmp_path / "class.csv"
    result = subprocess.run([sys.executable, "-c", BUG_CHILD, "--demo", "--sink", "none", "--log", str(log)],
                            cwd=REPO, env=env_with(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert result.stderr.rstrip().endswith("RuntimeError: a bug inside the analysis")
    assert f"failed (the error follows) before the report was written; write it with: ferbot report {log}" in \
        result.stderr.split("Traceback")[0]
    assert len({row["frame"] for row in log_rows(log)}) == 2  # the two analyses before it
