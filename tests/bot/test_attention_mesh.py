"""Head pose from the face-landmark model (ferbot.detect.facemesh) on real faces: the FER2013 PrivateTest faces
labelled by eye in test_attention.py, and real photographs made into webcam pictures."""

from __future__ import annotations

import numpy as np
import pytest

from ferbot.detect import FaceFinder
from ferbot.detect.blazeface import BlazeFace
from ferbot.detect.facemesh import MESH_FIRST_LOOK_YAW, FaceMesh, crop_to_picture, mesh_facing, mesh_pose
from ferbot.detect.headpose import HeadPose
from tests.bot.test_attention import (
    FACING,
    LOOKING_AT_CAMERA,
    PROFILES,
    TURNED_TO_VIEWERS_LEFT,
    TURNED_TO_VIEWERS_RIGHT,
    fer_picture,
    webcam_faces,
)
from tests.helpers.faces import photo


@pytest.fixture(scope="module")
def private_test(fer2013) -> np.ndarray:
    return fer2013.test.images


@pytest.fixture(scope="module")
def mesh():
    return FaceMesh()


@pytest.fixture(scope="module")
def detector():
    with BlazeFace() as blazeface:
        yield blazeface


def _pose(detector: BlazeFace, mesh: FaceMesh, face: np.ndarray, **how) -> HeadPose:
    """FaceMesh.pose of a FER2013 face shown as fer_picture(face, **how) shows it."""
    picture = fer_picture(face, **how)
    (found,) = detector.detect(picture)
    return mesh.pose(picture, found)


def test_the_mesh_lies_on_the_face(mesh):
    """The mesh's nose tip and eye centres, mapped back to the picture, land on BlazeFace's keypoints."""
    finder = FaceFinder()
    for name in LOOKING_AT_CAMERA:
        picture = photo(name)
        (found,) = finder.find(picture)
        points = mesh.landmarks(picture, found)
        to_picture = crop_to_picture(found)
        at = (np.c_[points[:, :2], np.ones(len(points))] @ to_picture.T)
        eyes = [at[[33, 133]].mean(axis=0), at[[263, 362]].mean(axis=0)]
        span = np.linalg.norm(found.keypoints[1] - found.keypoints[0])
        for mesh_point, keypoint in zip([*eyes, at[1]], found.keypoints[:3]):
            assert np.linalg.norm(mesh_point - keypoint) < 0.25 * span, (name, mesh_point, keypoint)
    finder.close()


def test_frontal_faces_read_as_facing(detector, mesh, private_test):
    facing = [mesh_facing(_pose(detector, mesh, private_test[i])) for i in FACING]
    assert np.mean(facing) >= 0.95


def test_turned_heads_read_as_turned_with_the_right_side(detector, mesh, private_test):
    right = [_pose(detector, mesh, private_test[i]) for i in TURNED_TO_VIEWERS_RIGHT]
    left = [_pose(detector, mesh, private_test[i]) for i in TURNED_TO_VIEWERS_LEFT]
    assert all(p.yaw > MESH_FIRST_LOOK_YAW and not mesh_facing(p) for p in right), right
    assert all(p.yaw < -MESH_FIRST_LOOK_YAW and not mesh_facing(p) for p in left), left
    assert not any(mesh_facing(_pose(detector, mesh, private_test[i])) for i in PROFILES)


def test_a_mirrored_face_turns_the_other_way_and_a_tilt_is_no_turn(detector, mesh, private_test):
    """The yaw (the pitch is the keypoints', tested in test_attention.py) changes sign in a mirror, by about the
    same amount up to 30 degrees, and stays put when the head tilts to a shoulder."""
    for i in TURNED_TO_VIEWERS_RIGHT + TURNED_TO_VIEWERS_LEFT + FACING[:8]:
        pose, mirrored = _pose(detector, mesh, private_test[i]), _pose(detector, mesh, private_test[i], mirror=True)
        if abs(pose.yaw) > 30:
            assert np.sign(mirrored.yaw) == -np.sign(pose.yaw) and not mesh_facing(mirrored), (i, pose, mirrored)
        else:
            assert abs(mirrored.yaw + pose.yaw) < 8, (i, pose, mirrored)
    for i in FACING[:8]:
        pose = _pose(detector, mesh, private_test[i])
        for roll in (-20, 20):
            tilted = _pose(detector, mesh, private_test[i], roll=roll)
            assert abs(tilted.yaw - pose.yaw) < 8, (i, roll, pose, tilted)


def test_webcam_views_read_as_facing_and_follow_the_nod(mesh):
    """Of the faces found in test_attention.webcam_faces() (nodded 20 degrees up or down or level, centred or
    off-centre, degraded like video), at least 90% read as facing, and the mesh's own pitch follows the nod."""
    facing, pitches = [], {}
    for nod, view, found in webcam_faces():
        if found is not None:
            facing.append(mesh_facing(mesh.pose(view, found)))
            pitches.setdefault(nod, []).append(mesh_pose(mesh.landmarks(view, found)).pitch)
    assert len(facing) >= 30 and np.mean(facing) >= 0.9, facing
    assert np.median(pitches[-20.0]) < np.median(pitches[0.0]) - 5 < np.median(pitches[20.0]) - 10, pitches
