"""Head pose with MediaPipe's face-landmark model: 468 points in 3D, for how far a head is turned sideways, and
where the eyes of a nodded head look.

The model (ferbot/assets/models/face_landmark.tflite, 192x192 RGB input) runs on a square crop 1.5 face boxes wide
around a detection, turned so that the eye line is level, as MediaPipe's own face-mesh graph crops it; OpenCV's
TFLite reader runs it, so it needs nothing beyond the packages ferbot already uses. It returns x and y in crop
pixels and a depth z on about the same scale (smaller is nearer the camera).

The mesh's shape gives the pose: the face's left-right axis is the sum of the vectors from fourteen landmarks on
the subject's right to their mirror twins on the left, its up axis runs from the lower lip to the top of the nose
bridge (made square to the first), and the face points along their cross product; frontal faces then read about
3 degrees down (MESH_PITCH_OFFSET, the median over the benchmark's tuning faces), which is taken off.

What ferbot uses of it is the yaw: it sees the whole face, so heads turned 35-45 degrees read as turned far more
reliably than from BlazeFace's six keypoints, which saturate. Its pitch is no better than the keypoints' (heads
bowed with the eyes cast down are hard for both, and it reads webcam nods less), so `FaceMesh.pose` keeps the
keypoints' pitch (benchmarks/attention.py measures each, and the larger or the mean of the two pitches for bowed
heads, not adopted: no better held out). Where the keypoints read a face nodded down (or turned well aside: a head
bowed and turned reads nearly level), it reads the eyes instead (ferbot.detect.eyelids: eyelids low under brows that
are not lowered mean eyes cast down at a desk), from the mesh's brows and eye corners and the iris model's eyelids,
but only where the model trusts its mesh: it also scores how sure it is that its crop shows a face, and below
MediaPipe's own threshold (0.5) the mesh's eyes may lie elsewhere (a dark mask pulls them onto its top edge). The
model runs only where the keypoints read a face more than MESH_GATE_YAW sideways or CAST_DOWN_GATE down (about half
the faces that look at their screen, the iris model on about a sixth, where the mesh's own lids and brows leave the
eyes possibly cast down). The mesh reads large turns smaller than the keypoints do, hence the narrower sideways
limits of ferbot.track.attention. It costs a few milliseconds per face on a CPU core (the iris model about as much
again, on one eye), against microseconds for the keypoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ferbot.detect.blazeface import Detection
from ferbot.detect.crops import affine_crop, square_crop
from ferbot.detect.eyelids import CAST_DOWN_GATE, CAST_DOWN_GATE_YAW, CAST_DOWN_PITCH, EyeLids
from ferbot.detect.headpose import HeadPose, head_pose
from ferbot.detect.models import LandmarkModel

MODEL_FILE = "face_landmark.tflite"
INPUT = 192  # the model's square input, in pixels
CROP_SCALE = 1.5  # the crop's side in face boxes (the longer side of the detection box)

# Mesh landmarks (MediaPipe's face-mesh numbering) on the subject's right and their mirror twins on the left:
# eye corners, mouth corners, cheek and jaw contour, eyebrows, nose wings.
RIGHT = (33, 133, 61, 234, 127, 93, 132, 58, 172, 136, 70, 105, 48, 129)
LEFT = (263, 362, 291, 454, 356, 323, 361, 288, 397, 365, 300, 334, 278, 358)
NOSE_BRIDGE, LOWER_LIP = 168, 17
MESH_PITCH_OFFSET = 3.0  # degrees frontal faces read as looking down (module docstring)

# Faces the keypoints read within this many degrees sideways never read as turned by the mesh in the benchmark,
# so the model runs for the yaw only on the others (about a third of the faces that look at their screen).
MESH_GATE_YAW = 10.0
# The model's face-presence logit above which the mesh is trusted to lie on a face's features: MediaPipe's own
# threshold (a probability of 0.5). Below it (a dark mask, for one) the eyes are not read.
PRESENCE_LOGIT = 0.0


@dataclass(frozen=True)
class MeshReading:
    """One run of the model: the 468 landmarks (x, y, z) in the crop's pixels (eye line level), and its
    face-presence logit (how sure it is that the crop shows a face whose features it found)."""

    points: np.ndarray
    presence: float

    @property
    def trusted(self) -> bool:
        """Whether the model itself counts its landmarks as lying on a face (presence above PRESENCE_LOGIT)."""
        return self.presence > PRESENCE_LOGIT


class FaceMesh:
    """The face-landmark model, for the head pose of faces BlazeFace found (and the iris model, for their eyes)."""

    def __init__(self):
        self._model = LandmarkModel(MODEL_FILE)
        self.eyelids = EyeLids()

    def read(self, image: np.ndarray, detection: Detection) -> MeshReading:
        """The model's landmarks of the detected face in an RGB uint8 picture, and its face-presence logit."""
        points, presence = self._model.run(affine_crop(image, crop_to_picture(detection), INPUT), 468 * 3, 1)
        return MeshReading(points.reshape(468, 3), float(presence.ravel()[0]))

    def landmarks(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        """The 468 landmarks (x, y, z) of the face in an RGB uint8 picture, in the crop's pixels (eye line
        level)."""
        return self.read(image, detection).points

    def pose(self, image: np.ndarray, detection: Detection) -> HeadPose:
        """The head pose of the detected face (combined_pose): the keypoints', with the mesh's yaw where they read
        the face turned, and bowed where they read it nodded down or turned and its eyes, where the model trusts
        its mesh, are cast down."""
        keypoints = head_pose(detection.keypoints)
        if not needs_mesh(keypoints):
            return keypoints
        mesh = self.read(image, detection)
        cast_down = (needs_eyes(keypoints) and mesh.trusted
                     and self.eyelids.cast_down(image, crop_to_picture(detection), mesh.points))
        return combined_pose(keypoints, mesh_pose(mesh.points), cast_down)


def needs_mesh(keypoints: HeadPose) -> bool:
    """Whether the mesh is needed for a face whose keypoints read `keypoints`: for its yaw or for its eyes."""
    return abs(keypoints.yaw) > MESH_GATE_YAW or needs_eyes(keypoints)


def needs_eyes(keypoints: HeadPose) -> bool:
    """Whether the eyes are read (ferbot.detect.eyelids) for a face whose keypoints read `keypoints`: nodded down
    past CAST_DOWN_GATE or turned past CAST_DOWN_GATE_YAW."""
    return keypoints.pitch > CAST_DOWN_GATE or abs(keypoints.yaw) > CAST_DOWN_GATE_YAW


def combined_pose(keypoints: HeadPose, mesh: HeadPose, cast_down: bool) -> HeadPose:
    """The bot's pose from the keypoints' pose and the mesh's, and whether the eyes are cast down (read only where
    needs_eyes): the mesh's yaw where the keypoints read the face more than MESH_GATE_YAW sideways, and at least
    CAST_DOWN_PITCH down where the eyes are cast down."""
    yaw = mesh.yaw if abs(keypoints.yaw) > MESH_GATE_YAW else keypoints.yaw
    return HeadPose(yaw, max(keypoints.pitch, CAST_DOWN_PITCH) if cast_down else keypoints.pitch)


def crop_to_picture(detection: Detection) -> np.ndarray:
    """The affine map (2x3) from the model's input crop to the picture: centred on the detection box, CROP_SCALE
    boxes wide, its x axis along the eye line (right eye to left eye)."""
    box = detection.box
    right_eye, left_eye = np.asarray(detection.keypoints[:2], np.float64)
    angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    return square_crop(box.center, CROP_SCALE * max(box.w, box.h), angle, INPUT)


def mesh_pose(points: np.ndarray) -> HeadPose:
    """Yaw and pitch (HeadPose's conventions) from the 468 mesh landmarks (module docstring)."""
    p = np.asarray(points, np.float64)
    across = (p[list(LEFT)] - p[list(RIGHT)]).sum(axis=0)
    across /= np.linalg.norm(across)
    up = p[NOSE_BRIDGE] - p[LOWER_LIP]
    up -= (up @ across) * across
    up /= np.linalg.norm(up)
    forward = np.cross(across, up)  # x right, y down, z away from the camera: a frontal face gives (0, 0, -1)
    yaw = math.atan2(forward[0], -forward[2])
    pitch = math.atan2(forward[1], math.hypot(forward[0], forward[2]))
    return HeadPose(math.degrees(yaw), math.degrees(pitch) - MESH_PITCH_OFFSET)
