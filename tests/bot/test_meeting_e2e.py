"""End to end on a realistic meeting: a Zoom-like gallery of real photographs framed as webcams (off-centre, a room
behind, degraded like a call) with name tags, an active speaker's border, a toolbar and a camera-off tile showing a
profile picture, shown as video on a real X screen (Xvfb: the webcams change, the picture does not), captured by
`python -m ferbot` for longer than it takes to see that the profile picture never changes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest

from ferbot.render import OutputLayout
from ferbot.render.overlay import PICTURE_GREY
from ferbot.track.tracker import PICTURE_AFTER_S
from tests.helpers.cli import analysed_frames
from tests.helpers.data import REPO, read_video
from tests.helpers.faces import matches, people
from tests.helpers.feed import feed_of, on_feed
from tests.helpers.logs import log_rows, row_box
from tests.helpers.meetings import meeting_screen
from tests.helpers.xserver import shown_on_screen, xvfb

pytestmark = [pytest.mark.slow, pytest.mark.display]
DURATION_S = PICTURE_AFTER_S + 14  # room for 5 analyses, and two after PICTURE_AFTER_S, on a busy machine


@pytest.fixture(scope="module")
def meeting():
    """The first seeded 4x4 Zoom screen with a profile picture on it."""
    for seed in range(100):
        screen = meeting_screen(people(), "zoom", (1920, 1080), 16, seed=seed)
        if screen.pictures and len(screen.faces) >= 10:
            return screen
    raise AssertionError("no seed gives a screen with a profile picture")


@pytest.fixture(scope="module")
def run(meeting, tmp_path_factory):
    """ferbot on the X screen showing the meeting: (log rows by frame time, the last frame of the feed); every
    analysed frame has rows (a frame in which nothing was found would have none)."""
    folder = tmp_path_factory.mktemp("meeting")
    video, log = folder / "feed.avi", folder / "faces.csv"
    with xvfb((1920, 1080)) as display, shown_on_screen(display, meeting.image, folder, _webcams_moving(meeting)):
        result = subprocess.run([sys.executable, "-m", "ferbot", "--sink", f"file:{video}", "--log", str(log),
                                 "--no-report", "--duration", str(DURATION_S), "--fps", "10"],
                                cwd=REPO, env={**os.environ, "DISPLAY": display}, capture_output=True, text=True,
                                timeout=300)
    assert result.returncode == 0, result.stderr
    by_time = defaultdict(list)
    for row in log_rows(log):
        by_time[float(row["time_s"])].append(row_box(row))
    assert len(by_time) == analysed_frames(result.stderr)
    return by_time, read_video(video)[0][-1]


def _webcams_moving(meeting) -> np.ndarray:
    """The screen with every webcam face 8 grey levels brighter and the profile picture as it is: shown in turn
    with the screen, the students' webcams change as video does while the picture stays still."""
    moved = meeting.image.astype(np.int16)
    for x, y, w, h in (face.as_int() for face in meeting.faces):
        moved[y:y + h, x:x + w] += 8
    return np.clip(moved, 0, 255).astype(np.uint8)


def test_nearly_every_student_is_found_and_nothing_else(meeting, run):
    by_time, _ = run
    assert len(by_time) >= 5
    for t, boxes in by_time.items():
        students = [b for b in boxes if not any(p.contains_point(*b.center) for p in meeting.pictures)]
        recall = np.mean([any(matches(b, face) for b in students) for face in meeting.faces])
        assert recall >= 0.95, f"at {t:.1f} s: found {recall:.0%} of {len(meeting.faces)} faces"
        assert all(any(matches(b, face) or face.contains_point(*b.center) for face in meeting.faces + meeting.ignore)
                   for b in students), f"at {t:.1f} s: a box on no face"


def test_the_profile_picture_is_marked_a_picture(meeting, run):
    """Never logged as a student, not even in the 10 s before it is known to be a picture (its rows are held while
    it has not been seen to move, and dropped when it is found out); drawn in grey as a picture on the feed."""
    by_time, last_frame = run
    assert max(by_time) - min(by_time) > PICTURE_AFTER_S + 1  # analysed after it was found out too
    assert not any(p.contains_point(*b.center) for boxes in by_time.values() for b in boxes for p in meeting.pictures)
    layout = OutputLayout((1280, 720))
    shown = feed_of(meeting.image, layout)  # the screen as the feed shows it, before anything is drawn on it
    x, y, w, h = on_feed(meeting.pictures[0], layout, (1920, 1080)).as_int()
    around = np.s_[max(0, y - 30):y + h + 10, max(0, x - 10):x + w + 10]
    drawn = np.abs(last_frame[around].astype(int) - shown[around]).sum(axis=2) > 60
    grey = np.abs(last_frame[around].astype(int) - PICTURE_GREY).sum(axis=2) < 40
    assert (drawn & grey).sum() > 200  # the grey box and "picture" tag (about 750 px), not the photograph's greys
