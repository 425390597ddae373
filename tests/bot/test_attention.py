"""Attention: head pose from BlazeFace keypoints on real faces, smoothed per track, shown on the feed and logged.

The FER2013 PrivateTest faces below were labelled by eye (looking at each picture), not by the estimator.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferbot.detect.blazeface import BlazeFace, Detection
from ferbot.detect.headpose import HeadPose, head_pose
from ferbot.emotions import NUM_CLASSES
from ferbot.geometry import Rect
from ferbot.render.overlay import AWAY_COLORS, FACING_COLORS
from ferbot.track import FaceTracker
from tests.helpers.faces import tracked_face

# PrivateTest indices (rows of the official split, in file order).
FACING = (2000, 2001, 2004, 2007, 2008, 2010, 2012, 2013, 2015, 2017, 2018, 2019, 2023, 2026, 2027, 2028, 2031,
          2032, 2033, 2035, 2037, 2038, 207, 168, 979, 988, 744, 388)
TURNED_TO_VIEWERS_RIGHT = (886, 1152, 2025, 795, 72)  # both eyes still visible: the sign must be right
TURNED_TO_VIEWERS_LEFT = (1361, 557, 1052, 19)
PROFILES = (962, 213, 446, 1177)  # turned so far that the far eye is hidden: only "not facing" is asked
LOOKING_UP = (1312, 37, 351)


@pytest.fixture(scope="module")
def private_test(fer2013) -> np.ndarray:
    return fer2013.test.images


@pytest.fixture(scope="module")
def detector():
    with BlazeFace() as blazeface:
        yield blazeface


def _detect(detector: BlazeFace, face: np.ndarray, roll: float = 0.0, mirror: bool = False) -> Detection:
    """The one detection in a FER2013 face shown at 144 px on a grey 256 px picture, optionally mirrored or
    rotated in the picture plane by `roll` degrees."""
    canvas = np.full((256, 256), 128, np.uint8)
    canvas[56:200, 56:200] = cv2.resize(face, (144, 144), interpolation=cv2.INTER_CUBIC)
    if mirror:
        canvas = np.ascontiguousarray(canvas[:, ::-1])
    if roll:
        canvas = cv2.warpAffine(canvas, cv2.getRotationMatrix2D((128, 128), roll, 1.0), (256, 256), borderValue=128)
    found = detector.detect(cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB))
    assert len(found) == 1
    return found[0]


def _pose(detector, face, **how) -> HeadPose:
    return head_pose(_detect(detector, face, **how).keypoints)


def test_faces_turned_to_the_screen_read_as_facing(detector, private_test):
    facing = [_pose(detector, private_test[i]).facing for i in FACING]
    assert np.mean(facing) >= 0.9


def test_turned_heads_read_as_not_facing_with_the_right_side(detector, private_test):
    right = [_pose(detector, private_test[i]) for i in TURNED_TO_VIEWERS_RIGHT]
    left = [_pose(detector, private_test[i]) for i in TURNED_TO_VIEWERS_LEFT]
    assert all(p.yaw > 30 and not p.facing for p in right), right
    assert all(p.yaw < -30 and not p.facing for p in left), left
    assert not any(_pose(detector, private_test[i]).facing for i in PROFILES)


def test_heads_thrown_back_read_as_looking_up(detector, private_test):
    poses = [_pose(detector, private_test[i]) for i in LOOKING_UP]
    assert all(p.pitch < -25 and not p.facing for p in poses), poses


def test_a_mirrored_face_turns_the_other_way(detector, private_test):
    for i in TURNED_TO_VIEWERS_RIGHT + TURNED_TO_VIEWERS_LEFT + FACING[:8]:
        pose, mirrored = _pose(detector, private_test[i]), _pose(detector, private_test[i], mirror=True)
        if abs(pose.yaw) > 30:  # the far side's keypoints are guesses: only the side and "not facing" hold
            assert np.sign(mirrored.yaw) == -np.sign(pose.yaw) and not mirrored.facing, (i, pose, mirrored)
        else:
            assert abs(mirrored.yaw + pose.yaw) < 12 and abs(mirrored.pitch - pose.pitch) < 10, (i, pose, mirrored)


def test_tilting_the_head_to_a_shoulder_is_not_a_turn(detector, private_test):
    for i in FACING[:8]:
        pose = _pose(detector, private_test[i])
        for roll in (-20, 20):
            tilted = _pose(detector, private_test[i], roll=roll)
            assert abs(tilted.yaw - pose.yaw) < 12 and abs(tilted.pitch - pose.pitch) < 12, (i, roll)


def test_attention_is_smoothed_per_track(detector, private_test):
    """A student who looks at the screen for 10 s, glances away for 1 s, looks back for 10 s, then turns away
    for 4 s: the glance does not make them 'away', turning away for longer does."""
    box = Rect(50, 50, 150, 150)
    towards, away = (Detection(box, 0.9, _detect(detector, private_test[i]).keypoints) for i in (2000, 886))
    tracker, probabilities = FaceTracker(attention_s=3.0), np.full((1, NUM_CLASSES), 1 / NUM_CLASSES)
    attention = []
    for step, detection in enumerate([towards] * 50 + [away] * 5 + [towards] * 50 + [away] * 20):
        (face,) = tracker.update([detection], probabilities, step * 0.2)
        attention.append(face.attention)
    assert face.track_id == 1
    assert attention[49] == pytest.approx(1.0)
    assert min(attention[50:105]) > 0.6  # the 1 s glance
    assert attention[104] > 0.95
    assert attention[-1] < 0.3  # 4 s turned away
    assert np.all(np.diff(attention[105:]) < 0)


def test_the_feed_shows_attention_under_each_face():
    from ferbot.render.overlay import draw_faces

    canvas = np.zeros((300, 600, 3), np.uint8)
    faces = [tracked_face((50, 50, 100, 100), attention=0.8), tracked_face((350, 50, 100, 100), attention=0.2)]
    draw_faces(canvas, faces, 1.0, (0, 0))
    below = 50 + 100 + 4  # a row through the attention bars
    facing_bar, away_bar = canvas[below, 50:151], canvas[below, 350:451]
    assert (facing_bar == FACING_COLORS[0]).all(axis=1).mean() == pytest.approx(0.8, abs=0.03)
    assert (away_bar == AWAY_COLORS[0]).all(axis=1).mean() == pytest.approx(0.2, abs=0.03)
    assert (away_bar == AWAY_COLORS[1]).all(axis=1).mean() == pytest.approx(0.8, abs=0.03)
