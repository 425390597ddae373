"""Rough head pose from BlazeFace's keypoints: how far a face is turned sideways (yaw) and up or down (pitch).

BlazeFace gives the centres of the eyes, the nose tip and the mouth. Seen from the front, the nose tip sits
midway between the eyes and a little over half way from the eye line to the mouth. The nose tip stands in
front of the eyes and mouth, so turning the head moves it sideways, and nodding moves it towards the mouth or
the eyes, by amounts that a generic adult face turns into angles. The keypoints are first expressed along
the eye line and across it, so tilting the head to a shoulder (roll) does not read as a turn.

These are estimates for a coarse question — is this face roughly turned to the screen? — good to about 10-15
degrees on a clear face; they know nothing about where the eyes look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# A generic adult face, in millimetres from the nose tip: the eye centres sit EYE_HALF_SPAN to either side,
# EYE_HEIGHT above and EYE_DEPTH behind it; the mouth centre MOUTH_DROP below and MOUTH_DEPTH behind it.
EYE_HALF_SPAN = 31.5
EYE_HEIGHT = 32.0
EYE_DEPTH = 26.0
MOUTH_DROP = 29.0
MOUTH_DEPTH = 24.0

MAX_FACING_YAW = 30.0  # degrees
MAX_FACING_PITCH = 25.0


@dataclass(frozen=True)
class HeadPose:
    """yaw: degrees, positive when the face turns towards the viewer's right; pitch: degrees, positive when
    it looks down."""

    yaw: float
    pitch: float

    @property
    def facing(self) -> bool:
        """Whether the face is turned roughly towards the camera (within 30 degrees sideways, 25 up or down)."""
        return abs(self.yaw) <= MAX_FACING_YAW and abs(self.pitch) <= MAX_FACING_PITCH


def head_pose(keypoints: np.ndarray) -> HeadPose:
    """The head pose from BlazeFace keypoints (6, 2) in pixels: right eye, left eye, nose tip, mouth, ears."""
    right_eye, left_eye, nose, mouth = np.asarray(keypoints[:4], np.float64)
    across = left_eye - right_eye  # the subject's right eye is on the viewer's left
    half_span = np.linalg.norm(across) / 2
    if half_span < 1e-6:
        return HeadPose(0.0, 0.0)
    across /= 2 * half_span
    down = np.array([-across[1], across[0]])  # the eye line turned a quarter, pointing chin-wards
    eyes = (left_eye + right_eye) / 2
    nose_side, nose_drop = float((nose - eyes) @ across), float((nose - eyes) @ down)
    mouth_drop = float((mouth - eyes) @ down)
    yaw = math.atan2(nose_side / half_span * EYE_HALF_SPAN, EYE_DEPTH)
    # share of the eye-to-mouth distance down to the nose tip, and the nod that makes it so
    share = nose_drop / mouth_drop if mouth_drop > 1e-6 else EYE_HEIGHT / (EYE_HEIGHT + MOUTH_DROP)
    pitch = math.atan2(share * (EYE_HEIGHT + MOUTH_DROP) - EYE_HEIGHT, EYE_DEPTH - share * (EYE_DEPTH - MOUTH_DEPTH))
    return HeadPose(math.degrees(yaw), math.degrees(pitch))
