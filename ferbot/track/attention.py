"""Whether a student faces their screen: on a first look, then judged against their own usual pose.

The poses are the bot's (ferbot.detect.facemesh.FaceMesh.pose): the keypoints' pitch (45 degrees down at least where
a nodded or turned head's eyes are cast down, ferbot.detect.eyelids), and the face-landmark model's yaw wherever the
keypoints see the head turned. Where a student's screen lies as seen from their webcam depends on the set-up: a
camera above the screen sees a student who reads the lesson nodding down, one below it (a phone, a tablet, a laptop
on a low desk) sees them looking up, one beside a second monitor sees them turned, and the angles are off by 10
degrees or more for some faces anyway.

A face seen for the first time counts as facing within the **first-look window** (first_look_facing): 24 degrees
sideways, 40 up and 25 down, wider upwards because a camera below the screen is common and BlazeFace reads an upward
nod larger than a downward one (benchmarks/attention.py compares the keypoints alone, with their own window of 32
degrees sideways).

Over time each student's **reference** is their usual head pose: the median yaw and pitch of the last five minutes
(one sample a second at most). A face counts as facing when its pose lies within 15 degrees sideways and 20 up or
down of the reference, and within absolute limits (26 degrees sideways, 45 up, 30 down) that no reference can move:
the reference itself is held within 11 degrees sideways and 25 up to 10 down of straight ahead, so a student who
spends the whole lesson turned away never counts as facing, as far as their pose reads it: a head bowed over a desk
reads only 15-30 degrees down, within them, like a student reading a screen below a camera above it, and counts as
turned only where its eyes read as cast down (about five bowed heads in six in benchmarks/attention.py). The sideways
limits are those the keypoints had (15, 20, 35) times 0.75: the mesh reads large turns smaller than the keypoints do
(benchmarks/attention.py measures both over a lesson).

Before there is history the reference is a prior, the first-look window (a reference without history reads what
first_look_facing reads); the median takes over as samples come in (half-way after REFERENCE_PRIOR samples, about
20 s), and the window narrows from the first-look one to the reference's own. Poses beyond the absolute limits are no
samples, and once a few minutes at the screen are in the median, a minute turned away within them moves it by a few
degrees at most, so the student reads as facing again as soon as they turn back. Not so in a track's first minute
(the lesson's start, a rejoin, a camera turned back on): a pose within the limits held longer than the time at the
screen so far is the median, so it reads as facing, and, where it was a nod, the return to the screen reads as turned
away until the screen's pose is the median again (about 25 s after a minute looking 35 degrees up, in the audit of
7 Dec.).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferbot.detect.headpose import HeadPose

# The first-look window, in degrees of the bot's pose: a face seen for the first time counts as facing its screen
# within it (module docstring; the sideways limit chosen on the tuning faces of benchmarks/attention.py).
FIRST_LOOK_YAW = 24.0  # either side
FIRST_LOOK_UP = 40.0  # looking up (a camera below the screen)
FIRST_LOOK_DOWN = 25.0  # looking down (a camera above the screen)

REFERENCE_WINDOW_S = 300.0  # the usual pose: over the last five minutes
REFERENCE_SAMPLE_S = 1.0  # at most one sample a second, whatever the analysis rate
REFERENCE_PRIOR = 20  # samples that weigh as much as the prior
REFERENCE_YAW = 11.0  # the reference is held within these limits (degrees)
REFERENCE_UP, REFERENCE_DOWN = 25.0, 10.0
WITHIN_YAW = 15.0  # a face faces its screen within these of the reference
WITHIN_PITCH = 20.0
ABSOLUTE_YAW = REFERENCE_YAW + WITHIN_YAW  # 26: never facing beyond these
ABSOLUTE_UP, ABSOLUTE_DOWN = REFERENCE_UP + WITHIN_PITCH, REFERENCE_DOWN + WITHIN_PITCH  # 45 up, 30 down

# The first-look window as a centre and half widths (yaw, pitch): what a reference starts from.
_PRIOR_CENTRE = (0.0, (FIRST_LOOK_DOWN - FIRST_LOOK_UP) / 2)
_PRIOR_HALF = (FIRST_LOOK_YAW, (FIRST_LOOK_DOWN + FIRST_LOOK_UP) / 2)


@dataclass(frozen=True)
class PoseReference:
    """A student's usual head pose: samples (time s, yaw, pitch) of the last REFERENCE_WINDOW_S seconds."""

    samples: tuple[tuple[float, float, float], ...] = ()

    def observed(self, timestamp: float, pose: HeadPose) -> PoseReference:
        """The reference after seeing `pose` at `timestamp`, kept as a sample if the last is a second old and the
        pose lies within the absolute limits: one beyond them is never facing, so no usual pose (a student turned
        away for a minute early in the lesson, before the minute outweighs the time at the screen, moved the
        median onto the turn and read as turned away once back); a collapsed mesh reads NaN, which would poison
        the median for REFERENCE_WINDOW_S."""
        if self.samples and timestamp - self.samples[-1][0] < REFERENCE_SAMPLE_S or not self.takes(pose):
            return self
        start = timestamp - REFERENCE_WINDOW_S
        kept = tuple(s for s in self.samples if s[0] > start)
        return type(self)(kept + ((timestamp, pose.yaw, pose.pitch),))

    @staticmethod
    def takes(pose: HeadPose) -> bool:
        """Whether a pose may be a sample (observed): one within the absolute limits."""
        return _within_limits(pose)

    @property
    def weight(self) -> float:
        """How far the median has taken over from the prior (0-1)."""
        return len(self.samples) / (len(self.samples) + REFERENCE_PRIOR)

    @property
    def usual(self) -> HeadPose:
        """The reference pose: the prior moved towards the samples' median, held within the reference limits."""
        yaw, pitch = _PRIOR_CENTRE
        if self.samples:
            median_yaw, median_pitch = np.median(np.asarray(self.samples)[:, 1:], axis=0)
            yaw += self.weight * (float(median_yaw) - yaw)
            pitch += self.weight * (float(median_pitch) - pitch)
        return HeadPose(float(np.clip(yaw, -REFERENCE_YAW, REFERENCE_YAW)),
                        float(np.clip(pitch, -REFERENCE_UP, REFERENCE_DOWN)))

    def facing(self, pose: HeadPose) -> bool:
        """Whether `pose` lies within bounds of the reference (wide at first, then WITHIN_*) and within the
        absolute limits."""
        usual, weight = self.usual, self.weight
        half_yaw = WITHIN_YAW + (1 - weight) * (_PRIOR_HALF[0] - WITHIN_YAW)
        half_pitch = WITHIN_PITCH + (1 - weight) * (_PRIOR_HALF[1] - WITHIN_PITCH)
        return (abs(pose.yaw - usual.yaw) <= half_yaw and abs(pose.pitch - usual.pitch) <= half_pitch
                and _within_limits(pose))


def first_look_facing(pose: HeadPose) -> bool:
    """Whether a face seen for the first time counts as facing its screen: within the first-look window
    (FIRST_LOOK_YAW sideways, FIRST_LOOK_UP up, FIRST_LOOK_DOWN down), as a reference without history judges it."""
    return PoseReference().facing(pose)


def _within_limits(pose: HeadPose) -> bool:
    """Whether a pose lies within the absolute limits, beyond which no student faces their screen (False for NaN)."""
    return abs(pose.yaw) <= ABSOLUTE_YAW and -ABSOLUTE_UP <= pose.pitch <= ABSOLUTE_DOWN
