"""Rough head pose from BlazeFace's keypoints: how far a face is turned sideways (yaw) and up or down (pitch).

BlazeFace gives the centres of the eyes, the nose tip, the mouth and the ears (tragions). Seen from the front, the
nose tip sits midway between the eyes and a little over half way from the eye line to the mouth, and the ears sit
level with the nose bridge to either side. The nose tip stands in front of the eyes and the mouth and the ears far
behind them, so turning the head moves the nose tip sideways against the eyes and against the ears, and nodding
moves it towards the mouth or the eyes while the ears move the other way; a generic adult face turns these shifts
into angles. Each angle combines the two cues (nose against the eyes, nose or eyes against the ears): the yaw is
their mean, the pitch weighs the nose cue NOSE_PITCH_WEIGHT, because a mask over the mouth moves BlazeFace's ear
points down further than its nose (benchmarks/attention.py). BlazeFace's ear points move less than real ears would,
so their depths below are the ones that make both cues agree on the same heads (measured on FER2013 faces and on
nodded webcam views), not anatomy. The keypoints are first expressed along the eye line and across it, so tilting
the head to a shoulder (roll) does not read as a turn.

These are estimates for a coarse question — is this face roughly turned to its screen? — that spread by about 10
degrees around the truth from picture to picture and by as much again from person to person (benchmarks/
attention.py); they know nothing about where the eyes look. BlazeFace's points also saturate: a head turned to a
full profile or bowed far down can read as only 20-30 degrees (ferbot.detect.facemesh reads such turns from a
468-point mesh instead, at a few milliseconds a face).

Whether a pose faces its screen is ferbot.track.attention's to judge: on a first look, then against each student's
own usual pose.
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
# BlazeFace's ear points: EAR_HALF_SPAN to either side of the nose tip and EAR_DEPTH behind it as seen in a turn;
# EAR_DROP below the eye line and EAR_NOD_DEPTH behind the eyes as seen in a nod (see the module docstring).
EAR_HALF_SPAN = 65.0
EAR_DEPTH = 90.0
EAR_DROP = 15.0
EAR_NOD_DEPTH = 44.0
# The nose cue's share of the pitch, the ears' the rest (benchmarks/attention.py says how it was chosen).
NOSE_PITCH_WEIGHT = 0.6


@dataclass(frozen=True)
class HeadPose:
    """yaw: degrees, positive when the face turns towards the viewer's right; pitch: degrees, positive when
    it looks down."""

    yaw: float
    pitch: float


def head_pose(keypoints: np.ndarray, nose_pitch_weight: float = NOSE_PITCH_WEIGHT) -> HeadPose:
    """The head pose from BlazeFace keypoints (6, 2) in pixels: right eye, left eye, nose tip, mouth, ears;
    `nose_pitch_weight`: the nose cue's share of the pitch (the benchmark measures others)."""
    right_eye, left_eye, nose, mouth, right_ear, left_ear = np.asarray(keypoints[:6], np.float64)
    across = left_eye - right_eye  # the subject's right eye is on the viewer's left
    span = float(np.linalg.norm(across))
    if span < 1e-6:
        return HeadPose(0.0, 0.0)
    across /= span
    down = np.array([-across[1], across[0]])  # the eye line turned a quarter, pointing chin-wards
    eyes = (left_eye + right_eye) / 2
    mm = 2 * EYE_HALF_SPAN / span  # millimetres per pixel at the eyes

    # Yaw: the nose tip off the eyes' midpoint, and off the ears' midpoint, against their half spans.
    nose_side = float((nose - eyes) @ across) * mm
    yaw_eyes = math.atan2(nose_side, EYE_DEPTH)
    ears_side = float((nose - (left_ear + right_ear) / 2) @ across)
    ears_half = float((left_ear - right_ear) @ across) / 2
    yaw_ears = math.atan2(ears_side / ears_half * EAR_HALF_SPAN, EAR_DEPTH) if ears_half > 1e-6 else yaw_eyes

    # Pitch: the nose tip's share of the way from the eyes down to the mouth, and the ears' drop below the eyes.
    nose_drop, mouth_drop = float((nose - eyes) @ down), float((mouth - eyes) @ down)
    share = nose_drop / mouth_drop if mouth_drop > 1e-6 else EYE_HEIGHT / (EYE_HEIGHT + MOUTH_DROP)
    pitch_nose = math.atan2(share * (EYE_HEIGHT + MOUTH_DROP) - EYE_HEIGHT,
                            EYE_DEPTH - share * (EYE_DEPTH - MOUTH_DEPTH))
    ear_drop = float(((left_ear + right_ear) / 2 - eyes) @ down) * mm
    reach = math.hypot(EAR_DROP, EAR_NOD_DEPTH)  # ear_drop = reach * cos(pitch + atan(depth / drop))
    pitch_ears = math.acos(max(-1.0, min(1.0, ear_drop / reach))) - math.atan2(EAR_NOD_DEPTH, EAR_DROP)
    pitch = nose_pitch_weight * pitch_nose + (1 - nose_pitch_weight) * pitch_ears
    return HeadPose(math.degrees((yaw_eyes + yaw_ears) / 2), math.degrees(pitch))
