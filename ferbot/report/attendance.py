"""Per student: minutes on camera, with the camera off (a named tile without a face) and absent, and the stretches of a
lesson that may need the teacher's attention (sustained difficult states, low attention, long absences).

Every analysed frame in the log stands for the time until the next one, at most the log's longest step: MAX_STEP_S, or
RHYTHM times the usual gap between its frames where the bot analysed more slowly (a low --analysis-rate, a busy
computer). A longer gap is time in which the bot found no face: it looks all along while it runs, and the log has no row
for a frame without a face (or with only still pictures). The clock fills that time with blank frames, one every longest
step, in which every student is absent. A stretch is a run of frames in which the sign holds most of the time
(stretches). A frame is difficult when the feed labelled the face with a difficult state (summary.DIFFICULT), as the
rest of the report counts it: a summed probability of those states, of 15-30% on a calm face, spoke of what the feed
never showed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ferbot.track.tracker import KEEP_MISSES

LOW_ATTENTION = 0.4  # attention (share of recent time facing the screen) under which a frame counts as low
SUSTAINED_S = 60.0  # a difficult or inattentive stretch this long is worth a look
ABSENT_S = 90.0  # an absence this long is worth a look (a two-minute one measures a little under 120 s)
GAP_S = 10.0  # a frame is in an absence when the student is absent for most of the GAP_S around it
MAX_STEP_S = 5.0
RHYTHM = 2.5  # a gap this many times the log's median gap, and at least MAX_STEP_S, is a gap without faces
RHYTHM_GAPS = 10  # the fewest gaps that tell a log's rhythm (two sightings 20 s apart are no rhythm of 20 s)


@dataclass(frozen=True)
class Attendance:
    """One student's seconds on camera, with the camera off (a named tile without a face) and absent."""

    on_camera_s: float
    camera_off_s: float
    absent_s: float


@dataclass(frozen=True)
class Concern:
    """A sign worth a look ('labelled difficult', 'low attention', 'absent') and when, as (start, end) seconds."""

    kind: str
    ranges: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Clock:
    """The analysed frames' times, in order, how long each stands for, and which are blank: frames every longest
    step (_longest_step) through a longer gap in the log (no face on screen), each standing for its part of the
    gap."""

    times: np.ndarray
    steps: np.ndarray
    blank: np.ndarray
    longest: float = MAX_STEP_S  # the longest step a frame stands for (_longest_step)

    @classmethod
    def of(cls, log: dict[str, np.ndarray]) -> Clock:
        """The clock of a log's rows; the last frame stands for the median step (a lone frame, a still image's
        one analysis, for MAX_STEP_S)."""
        logged = np.unique(log["time_s"])
        gaps = np.diff(logged)
        usual = float(np.median(gaps)) if len(gaps) else MAX_STEP_S
        step = _longest_step(usual) if len(gaps) >= RHYTHM_GAPS else MAX_STEP_S
        blanks = np.concatenate([start + step * np.arange(1, _blank_frames(gap, step) + 1)
                                 for start, gap in zip(logged[:-1], gaps)] or [np.zeros(0)])
        times = np.concatenate([logged, blanks])
        order = np.argsort(times, kind="stable")
        times, blank = times[order], (np.arange(len(times)) >= len(logged))[order]
        steps = np.diff(times)
        return cls(times, np.minimum(np.append(steps, usual), step), blank, step)

    def empty(self, least_s: float) -> list[tuple[float, float]]:
        """(last frame before, first frame after) of each gap of `least_s` or more in the log that is longer than
        the longest step: time in which the bot found no face on screen (a break, the meeting window hidden)."""
        logged = self.times[~self.blank]
        return [(float(a), float(b)) for a, b in zip(logged[:-1], logged[1:]) if b - a >= least_s and
                b - a > self.longest]

    def share(self, when: np.ndarray) -> np.ndarray:
        """Per analysed frame: whether its time is among `when`."""
        return np.isin(self.times, when)


def _longest_step(usual_gap: float) -> float:
    """The longest time one analysed frame stands for, in a log whose frames are usually `usual_gap` apart: at one
    analysis every 8 s (--analysis-rate 0.125), 5 s made every student 37% absent, and a sustained state too thin to
    report."""
    return max(MAX_STEP_S, RHYTHM * usual_gap)


def _blank_frames(gap: float, step: float) -> int:
    """How many blank frames fill a gap between two logged ones: one every `step`, none closer than a millisecond
    to the next logged frame (counted in whole steps: a float range could add one at its end)."""
    return max(0, math.ceil((gap - 1e-3) / step) - 1)


def attendance(log: dict[str, np.ndarray], rows: np.ndarray, clock: Clock) -> Attendance:
    """The time one student's rows (a boolean mask over the log) show them on camera (with_brief_misses), with the
    camera off, and the rest of the session: absent."""
    off = log["camera_off"]
    on_camera = with_brief_misses(clock.share(log["time_s"][rows & ~off])) & ~clock.blank
    camera_off = clock.share(log["time_s"][rows & off]) & ~on_camera
    total = float(clock.steps.sum())
    on_s, off_s = float(clock.steps[on_camera].sum()), float(clock.steps[camera_off].sum())
    return Attendance(on_s, off_s, max(0.0, total - on_s - off_s))


def with_brief_misses(seen: np.ndarray) -> np.ndarray:
    """Per analysed frame, whether a face was on camera: `seen` (its rows), with holes of up to KEEP_MISSES frames
    between two seen frames filled (the detector missed it for a moment; the tracker kept it, and the feed its
    label)."""
    filled = seen.copy()
    frames = np.flatnonzero(seen)
    for before, after in zip(frames[:-1], frames[1:]):
        if after - before - 1 <= KEEP_MISSES:
            filled[before:after] = True
    return filled


def concerns(log: dict[str, np.ndarray], rows: np.ndarray, difficult: np.ndarray, clock: Clock) -> list[Concern]:
    """One student's stretches worth a look; `difficult`: per log row, whether the face was labelled with a
    difficult state."""
    off = log["camera_off"]
    faces = rows & ~off
    signs = [("labelled difficult", faces & difficult)]
    if "attention" in log:
        signs.append(("low attention", faces & (log["attention"] < LOW_ATTENTION)))
    # a state that flickers (a label, attention near its limit) holds "most of the time" over the stretch's own
    # length; an absence is judged over GAP_S, so a student on camera for part of every minute is not absent
    found = [Concern(kind, tuple(stretches(clock, clock.share(log["time_s"][mask]), SUSTAINED_S, SUSTAINED_S)))
             for kind, mask in signs]
    there = with_brief_misses(clock.share(log["time_s"][faces])) | clock.share(log["time_s"][rows & off])
    # no face on screen at all (a break for everyone, the window hidden) singles out no one: the coverage says so
    found.append(Concern("absent", tuple(stretches(clock, ~there & ~clock.blank, ABSENT_S, GAP_S))))
    return [concern for concern in found if concern.ranges]


def stretches(clock: Clock, flags: np.ndarray, least_s: float, window_s: float) -> list[tuple[float, float]]:
    """(start, end) of the stretches lasting `least_s` or more in which the sign holds most of the time: a frame is
    in one when flagged frames fill more than half of the `window_s` around it, so the seconds without the sign that
    come now and then (with a window of a minute: a student facing away for most of every minute, turned back for a
    few seconds) do not break a stretch, and a sign in under half the frames (a face missed now and then) makes
    none. A stretch runs from its first flagged frame to the end of its last (the clock has a frame at least every
    longest step, blank where the log has none)."""
    times, steps = clock.times, clock.steps
    flagged = np.concatenate([[0.0], np.cumsum(np.where(flags, steps, 0.0))])
    looked = np.concatenate([[0.0], np.cumsum(steps)])
    first = np.searchsorted(times, times - window_s / 2, side="left")
    last = np.searchsorted(times, times + window_s / 2, side="right")
    mostly = flagged[last] - flagged[first] > 0.5 * (looked[last] - looked[first])
    runs: list[list[int]] = []  # first and last frame of each run of frames in a stretch
    for k in np.flatnonzero(mostly):
        if runs and runs[-1][1] == k - 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    spans = [_flagged_span(clock, flags, first, last) for first, last in runs if flags[first:last + 1].any()]
    return [(start, end) for start, end in spans if end - start >= least_s]


def _flagged_span(clock: Clock, flags: np.ndarray, first: int, last: int) -> tuple[float, float]:
    """From the first flagged frame to the end of the last among frames first..last, taken on over the flagged
    frames right before and after them (a frame is in a stretch only from a little after the sign begins: once the
    sign fills half of the time around it)."""
    while first > 0 and flags[first - 1]:
        first -= 1
    while last + 1 < len(flags) and flags[last + 1]:
        last += 1
    inside = first + np.flatnonzero(flags[first:last + 1])
    return float(clock.times[inside[0]]), float(clock.times[inside[-1]] + clock.steps[inside[-1]])
