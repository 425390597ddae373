"""Session statistics from the bot's CSV log: class mood over time, difficult moments, students, coverage."""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo

import numpy as np

from ferbot.emotions import CLASS_NAMES
from ferbot.facelog import BOX_COLUMNS, PROBABILITY_COLUMNS, LogError
from ferbot.geometry import Rect
from ferbot.names.ocr import ELLIPSIS
from ferbot.report.attendance import GAP_S, SUSTAINED_S, Attendance, Clock, Concern, attendance, concerns
from ferbot.track.names import plainer, same_name, without_roles
from ferbot.track.tracker import KEEP_S, PICTURE_AFTER_S

# States that suggest a student is struggling or lost. The report counts faces by their label (the most probable
# class, as the feed labels them and its mood panel counts them): a calm face gives these states 15-30% of its
# probability, which averaged into a "27% difficult" student the feed had labelled Neutral throughout.
DIFFICULT = ("angry", "fear", "sad", "surprise")
DIFFICULT_COLUMNS = [PROBABILITY_COLUMNS.index(c) for c in DIFFICULT]  # their columns among the probabilities
# Difficult moments: stretches in which the share of faces labelled difficult, per MOMENT_BIN_S and not smoothed (a
# 30-second spell of the whole class read 45% in a 45-minute lesson's smoothed bins, and nothing in a 90-minute one's),
# is at least MOMENT_LEVEL and MOMENT_RISE above the session's median; stretches less than MOMENT_GAP_S apart are one
# (a fifteen-minute one was ten "moments", a minute apart, which pushed every other one off the list); the
# MOST_MOMENTS that held the most faces so labelled over their length.
MOMENT_LEVEL = 0.35
MOMENT_RISE = 0.1
MOMENT_BIN_S = 10.0
MOMENT_GAP_S = 60.0
MOST_MOMENTS = 10
SMOOTH_BINS = 3  # the class mood's time bins are smoothed over this many for the plots
STUB_S = GAP_S  # a track seen this long at most, just before a named student reappears, may be them (with_stubs_folded)
# A track on camera for less than this, with no name read, is a passing detection (a face on a slide or a poster
# found in an analysis or two), not a student: it was counted, marked absent all lesson and "100% difficult". In a
# session shorter than twice this no one has been seen long enough to tell, so there it takes half the session.
PASSING_S = 10.0
# A change of more than this in the clock's time less the session's is the computer's clock jumping (a laptop asleep,
# during which the session's monotonic time stands still, or the clock set), not a row written late (a slow analysis).
CLOCK_JUMP_S = 10.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Moment:
    """A stretch of the class's difficult states, worth a look in the report."""

    time_s: float  # its peak
    difficulty: float  # share of the class's faces labelled with a difficult state at the peak
    main_state: str  # the difficult label most faces had over the stretch
    start_s: float = 0.0
    end_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class Student:
    """One student's lesson, as the report tells it."""

    track_id: int
    first_s: float
    last_s: float
    presence: float  # share of the analysed lesson this student was on camera (attendance.on_camera_s of the whole)
    dominant: str  # the label their face had most often; '' for a student never seen on camera
    mean_probs: dict[str, float]
    difficulty: float  # share of their analysed frames labelled with a difficult state
    attention: float | None  # mean attention score, when the log has it
    name: str = ""  # the name on their tile (--names)
    attendance: Attendance = Attendance(0.0, 0.0, 0.0)
    concerns: tuple[Concern, ...] = ()  # in a log with names only
    title: str = ""  # how the report calls them: the name, with the track id where students share it; else the id
    label_shares: dict[str, float] = dataclasses.field(default_factory=dict)  # share of their frames with each label


@dataclasses.dataclass(frozen=True)
class SessionSummary:
    """What the report says of a session: its students, the class mood over time and its difficult moments."""

    duration_s: float
    frames: int  # logged frames: analysed frames with faces (the log has no row for a frame without)
    face_rows: int  # faces seen, summed over frames
    students: list[Student]
    bin_s: float
    timeline_t: np.ndarray  # bin centres (s)
    timeline: np.ndarray  # (bins, 7) share of the faces with each label per bin, smoothed; NaN where no face was seen
    difficulty: np.ndarray  # (bins,) share of the faces labelled with a difficult state per bin
    moments: list[Moment]
    attention: np.ndarray | None  # (bins,) mean attention per bin
    started: datetime | None = None  # the local time at the session's time 0 (from the log's clock column)
    offset_changes: tuple[tuple[float, tzinfo], ...] = ()  # session times from which the clocks have another offset
    # (session time after which, seconds): the computer's clock jumped ahead (or back) by that much against the
    # session's time, which stands still while the computer sleeps
    clock_jumps: tuple[tuple[float, float], ...] = ()
    passing: int = 0  # passing detections (PASSING_S): tracks left out of the students
    empty: tuple[tuple[float, float], ...] = ()  # (from, to) of each minute or more without a face on screen

    def on_the_clock(self, time_s: float) -> str:
        """A session time as the local time it was (HH:MM:SS), in the UTC offset the clocks had then (a lesson
        across a daylight-saving change); '' for a log without clock times, or with one so near the year 9999
        (edited) that the time is past it."""
        if self.started is None:
            return ""
        zone = next((zone for since, zone in reversed(self.offset_changes) if since <= time_s), None)
        jumped = sum(seconds for after, seconds in self.clock_jumps if after < time_s)
        try:
            moment = self.started + timedelta(seconds=round(time_s + jumped))
            return f"{moment.astimezone(zone) if zone is not None else moment:%H:%M:%S}"
        except OverflowError:
            return ""

    @property
    def named(self) -> bool:
        """Whether the log names the students (a run with --names)."""
        return any(student.name for student in self.students)


def summarize(log: dict[str, np.ndarray]) -> SessionSummary:
    """Aggregate a log: per-bin class mood (the share of the faces with each label), difficult moments,
    per-student summaries.

    Moments: _moments. Rows of cameras that are off count for the session's span and the students' attendance
    only; passing detections (PASSING_S) for the coverage's counts of frames and faces only, not for the session's
    span.
    """
    everyone = with_stubs_folded(log)
    if everyone["camera_off"].all() and not (everyone["name"] != "").any():
        raise LogError("the log holds no faces: nothing to report (was anyone on screen? a face whose picture does "
                       f"not change for {PICTURE_AFTER_S:g} s, as on a screenshot or a frozen screen, is taken for a "
                       "profile picture and not logged)")
    passing = _passing_tracks(everyone, Clock.of(everyone))
    kept = {name: column[~np.isin(everyone["track_id"], passing)] for name, column in everyone.items()}
    if not len(kept["time_s"]):
        raise LogError(f"the log holds only {len(passing)} faces each seen for under {PASSING_S:g} s, and no "
                       "student: nothing to report")
    # the session's time 0: its first analysis that logged a student (ferbot started ten minutes before the class
    # gave a "0:45:00" lesson whose times ran from 0:10:00 to 0:55:00)
    origin = float(kept["time_s"].min())
    everyone, kept = ({**rows, "time_s": rows["time_s"] - origin} for rows in (everyone, kept))
    # the session: from the first row of a student to the last, cameras off included; its length adds the last
    # row's step, as the students' attendance counts it
    # the clocks of the session's own rows: a face on a poster before it, and the laptop asleep between the two,
    # dated the start before the jump and put the jump at a negative time
    clock, readings = Clock.of(kept), _clock_readings({k: v[everyone["time_s"] >= 0] for k, v in everyone.items()})
    students = _students(kept, clock)
    seen = ~everyone["camera_off"]
    log = {name: column[~kept["camera_off"]] for name, column in kept.items()}
    span = float(np.ptp(kept["time_s"]))
    bin_s = _default_bin(span)
    nbins = int(span // bin_s) + 1
    centres = bin_s * np.arange(nbins) + bin_s / 2
    idx = np.minimum((log["time_s"] // bin_s).astype(int), nbins - 1)
    timeline = _binned_mean(idx, np.eye(len(CLASS_NAMES))[labels(log)], nbins)  # the feed's mood panel, over time
    difficulty = timeline[:, DIFFICULT_COLUMNS].sum(1)
    attention = None
    if "attention" in log and np.isfinite(log["attention"]).any():
        attention = _binned_mean(idx, log["attention"][:, None], nbins)[:, 0]
    segments = _clock_segments(readings)
    return SessionSummary(
        duration_s=float(clock.steps.sum()), frames=len(np.unique(everyone["frame"][seen])),
        face_rows=int(seen.sum()), students=students, bin_s=bin_s, timeline_t=centres, timeline=timeline,
        difficulty=difficulty, moments=_moments(log), attention=attention,
        started=_started(readings[:len(segments[0])] if segments else []), offset_changes=_offset_changes(readings),
        clock_jumps=_clock_jumps(readings, segments), passing=len(passing), empty=tuple(clock.empty(SUSTAINED_S)))


def labels(log: dict[str, np.ndarray]) -> np.ndarray:
    """Per row, the index of the label the feed showed: the most probable class of the logged probabilities (the
    first, of equal ones; camera-off rows, without any, get the first class)."""
    probs = np.stack([log[c] for c in PROBABILITY_COLUMNS], axis=1)
    return np.nan_to_num(probs, nan=-1.0).argmax(1)


def _binned_mean(idx: np.ndarray, values: np.ndarray, nbins: int) -> np.ndarray:
    """(nbins, K) mean of each column of `values` (N, K) over the rows in each time bin (`idx`), NaN values left out
    (NaN where a bin has none), then smoothed over SMOOTH_BINS bins."""
    valid = np.isfinite(values)
    sums = np.stack([np.bincount(idx, weights=np.where(valid[:, k], values[:, k], 0.0), minlength=nbins)
                     for k in range(values.shape[1])], 1)
    counts = np.stack([np.bincount(idx, weights=valid[:, k].astype(float), minlength=nbins)
                       for k in range(values.shape[1])], 1)
    return _smooth(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), SMOOTH_BINS)


def with_stubs_folded(log: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The log with each stub's rows under the student they belong to. With --names, a returning student whose tag
    is read only after their face is found is logged under a passing id for those analyses, then under their name's
    id (FaceTracker._under_name_id): a stub, which would be a student of its own, absent all lesson but a moment.
    A track is a stub of another when it lasts at most STUB_S, its names (where any was read) are the other's, and
    the other comes back as it (_comes_back_as); a stub that fits two tracks stays as it is."""
    names, tracks, times = log["name"], log["track_id"], log["time_s"]
    if not any(names):
        return log
    rows_of = {track: np.flatnonzero(tracks == track) for track in np.unique(tracks)}
    named = {track: usual_name([n for n in names[rows] if n]) for track, rows in rows_of.items()}
    folded = tracks.copy()
    for stub, rows in rows_of.items():
        if times[rows].max() - times[rows].min() > STUB_S:
            continue
        read = {n for n in names[rows] if n}
        fits = [track for track, own in rows_of.items() if track != stub and named[track]
                and all(same_name(n, named[track]) for n in read) and _comes_back_as(log, own, rows)]
        if len(fits) == 1:
            folded[rows] = fits[0]
    return {**log, "track_id": folded}


def _comes_back_as(log: dict[str, np.ndarray], own: np.ndarray, stub: np.ndarray) -> bool:
    """Whether a track (its rows `own`) is who a stub (rows `stub`) was: seen before the stub and let go by the
    tracker (not seen for longer than it keeps a missed face's id, KEEP_S, or seen last elsewhere on the screen: the
    app reordered its tiles), not seen during the stub, and back within GAP_S after it, where the stub's face was
    last. (A face seen where the track had just been, as the detector missed them, is someone else: the tracker
    would have kept the id.)"""
    times = log["time_s"]
    first, last = times[stub].min(), times[stub].max()
    before, after = own[times[own] < first], own[times[own] > last]
    if not len(before) or not len(after) or len(before) + len(after) < len(own):
        return False
    left, back = before[np.argmax(times[before])], after[np.argmin(times[after])]
    let_go = first - times[left] > KEEP_S or not _boxes_meet(log, left, stub[np.argmin(times[stub])])
    return let_go and times[back] - last <= GAP_S and _boxes_meet(log, stub[np.argmax(times[stub])], back)


def _boxes_meet(log: dict[str, np.ndarray], a: int, b: int) -> bool:
    """Whether the boxes of rows a and b overlap (never, in a log without boxes)."""
    if not all(k in log for k in BOX_COLUMNS):
        return False
    box_a, box_b = (Rect(*(float(log[k][row]) for k in BOX_COLUMNS)) for row in (a, b))
    return box_a.intersection_area(box_b) > 0


def _clock_readings(log: dict[str, np.ndarray]) -> list[tuple[float, datetime]]:
    """Each local time in the log's clock column, with the latest session time of its rows (the row written soonest
    after its frame: a row is written once its analysis is done, and held rows later still), in session-time order;
    passing over clocks that cannot be read (edited). Those with a UTC offset, which ferbot writes, where there are
    any: one without cannot be compared with them."""
    latest: dict[str, float] = {}  # by clock as written: a dict, for a long log's clocks as strings took 80 MiB
    for clock, time_s in zip(log.get("clock", ()), log["time_s"].tolist()):
        if clock and time_s > latest.get(clock, -np.inf):
            latest[clock] = time_s
    readings = []
    for clock, time_s in latest.items():
        try:
            readings.append((float(time_s), datetime.fromisoformat(clock)))
        except ValueError:  # not a time (edited)
            continue
    return sorted([r for r in readings if r[1].tzinfo is not None] or readings, key=lambda reading: reading[0])


def _clock_segments(readings: list[tuple[float, datetime]]) -> list[list[int]]:
    """The clock readings (indices) split where the computer's clock jumped against the session's time: where the
    clock less the session time moves by more than CLOCK_JUMP_S from the least of its segment's so far (the others
    were written late) and the next reading confirms it (one slow analysis moves no clock); not back in a segment's
    first CLOCK_JUMP_S (its first analyses, slow to start, written late), and not where a segment's least stays
    within CLOCK_JUMP_S of the one before."""
    ahead = [_seconds(clock) - time_s for time_s, clock in readings]
    segments: list[list[int]] = [[0]] if readings else []
    least = ahead[0] if readings else 0.0  # the least of the last segment's so far (a running minimum: a long
    #                                        lesson's thousands of readings each compared with all before was slow)
    for k in range(1, len(readings)):
        change = ahead[k] - least
        confirmed = k + 1 == len(readings) or abs(ahead[k + 1] - ahead[k]) <= CLOCK_JUMP_S
        settled = readings[k - 1][0] - readings[segments[-1][0]][0] > CLOCK_JUMP_S
        if confirmed and (change > CLOCK_JUMP_S or (change < -CLOCK_JUMP_S and settled)):
            segments.append([k])
            least = ahead[k]
        else:
            segments[-1].append(k)
            least = min(least, ahead[k])
    merged = segments[:1]
    for segment in segments[1:]:
        jump = min(ahead[k] for k in segment) - min(ahead[k] for k in merged[-1])
        if abs(jump) > CLOCK_JUMP_S:
            merged.append(segment)
        else:
            merged[-1].extend(segment)
    return merged


def _clock_jumps(readings: list[tuple[float, datetime]], segments: list[list[int]]) -> tuple[tuple[float, float], ...]:
    """SessionSummary.clock_jumps: after each segment's last reading, the whole seconds the clock moved against the
    session's time (from the least of one segment's clocks less their session times to the next one's)."""
    ahead = [[_seconds(readings[k][1]) - readings[k][0] for k in segment] for segment in segments]
    return tuple((readings[before[-1]][0], float(round(min(after_s) - min(before_s))))
                 for before, after, before_s, after_s in zip(segments, segments[1:], ahead, ahead[1:]))


def _seconds(clock: datetime) -> float:
    """A clock's time as seconds from 1970 (one without a UTC offset as if in UTC): no clock too near year 1 or
    9999 overflows."""
    return (clock - (_EPOCH if clock.tzinfo is not None else _EPOCH.replace(tzinfo=None))).total_seconds()


def _started(readings: list[tuple[float, datetime]]) -> datetime | None:
    """The local time at the session's time 0, to the nearest second, in the UTC offset of the session's first
    clock: the smallest of the clocks less their session time (a clock written to the whole second, as ferbot writes
    them, taken at the middle of its second), of those read before the computer's clock first jumped (the first
    analysis, slow to start, was written seconds late; the smallest may be one read after the clocks changed for
    daylight saving); None without clocks (a log of an older ferbot, or of a recording). (Less the session time
    rounded, and cut to the second, it came a second early.)"""
    starts = []
    for time_s, clock in readings:
        try:
            starts.append(clock + timedelta(seconds=0.5 * (clock.microsecond == 0) - time_s))
        except OverflowError:  # a time too near the year 1 to go back from (edited)
            continue
    if not starts:
        return None
    earliest = min(starts)
    started = earliest.replace(microsecond=0) + timedelta(seconds=earliest.microsecond > 500_000)
    return started.astimezone(readings[0][1].tzinfo) if started.tzinfo is not None else started


def _offset_changes(readings: list[tuple[float, datetime]]) -> tuple[tuple[float, tzinfo], ...]:
    """Where the clocks' UTC offset changes during the session (the clocks going back or forward for daylight
    saving): each session time from which another offset holds, and that offset."""
    changes, offset = [], readings[0][1].utcoffset() if readings else None
    for time_s, clock in readings:
        if clock.utcoffset() != offset:
            changes.append((time_s, clock.tzinfo))
            offset = clock.utcoffset()
    return tuple(changes)


def _default_bin(duration: float) -> float:
    """About 120 bins over the session, at least 2 s each."""
    return max(2.0, round(duration / 120))


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average over `width` bins along axis 0, ignoring NaN bins."""
    if width <= 1:
        return values
    valid = np.isfinite(values)
    filled = np.where(valid, values, 0.0)
    num = np.stack([_moving_sum(filled[:, k], width) for k in range(values.shape[1])], 1)
    den = np.stack([_moving_sum(valid[:, k].astype(float), width) for k in range(values.shape[1])], 1)
    return np.where(valid, num / np.maximum(den, 1e-9), np.nan)


def _moving_sum(column: np.ndarray, width: int) -> np.ndarray:
    """Centred sums over `width` neighbours, as long as `column` even when it is shorter than `width`."""
    start = (width - 1) // 2
    return np.convolve(column, np.ones(width))[start:start + len(column)]


def _moments(log: dict[str, np.ndarray]) -> list[Moment]:
    """The difficult moments of a log's rows with faces: stretches of MOMENT_BIN_S bins in which the share of faces
    labelled difficult is at least MOMENT_LEVEL and MOMENT_RISE above the session's median, those less than
    MOMENT_GAP_S apart joined; each with its peak and the difficult label most faces had over it; the MOST_MOMENTS
    with the most such faces over their length, in time order."""
    if not len(log["time_s"]):
        return []
    bins = (log["time_s"] // MOMENT_BIN_S).astype(int)
    counts = np.stack([np.bincount(bins[labels(log) == k], minlength=bins.max() + 1)
                       for k in range(len(CLASS_NAMES))], 1)  # (bins, classes): faces with each label
    faces = counts.sum(1)
    share = counts[:, DIFFICULT_COLUMNS].sum(1) / np.maximum(faces, 1)
    floor = max(MOMENT_LEVEL, float(np.median(share[faces > 0])) + MOMENT_RISE)
    high = np.flatnonzero(share >= floor)
    if not len(high):
        return []
    breaks = np.flatnonzero((np.diff(high) - 1) * MOMENT_BIN_S >= MOMENT_GAP_S) + 1
    difficult = counts[:, DIFFICULT_COLUMNS].sum(1)
    stretches = sorted(np.split(high, breaks), key=lambda run: -difficult[run].sum())[:MOST_MOMENTS]
    last_s = float(log["time_s"].max())
    return [_moment(run, share, counts, last_s) for run in sorted(stretches, key=lambda run: run[0])]


def _moment(run: np.ndarray, share: np.ndarray, counts: np.ndarray, last_s: float) -> Moment:
    """The Moment of a stretch of MOMENT_BIN_S bins `run`, given each bin's share of faces labelled difficult and
    its faces with each label (`counts`); it ends with the log at `last_s` at the latest."""
    peak = run[np.argmax(share[run])]
    state = DIFFICULT[int(np.argmax(counts[run[0]:run[-1] + 1, DIFFICULT_COLUMNS].sum(0)))]
    start_s, end_s = float(run[0] * MOMENT_BIN_S), min(float((run[-1] + 1) * MOMENT_BIN_S), last_s)
    return Moment(time_s=min(float((peak + 0.5) * MOMENT_BIN_S), end_s), difficulty=float(share[peak]),
                  main_state=state, start_s=start_s, end_s=end_s)


def _students(log: dict[str, np.ndarray], clock: Clock) -> list[Student]:
    """One per track id in the log (cameras off included; `clock`: the log's), emotions from the rows with a face,
    attendance and concerns from all."""
    shown = labels(log)
    difficult = np.isin(shown, DIFFICULT_COLUMNS) & ~log["camera_off"]
    # the report lists concerns by name only: an anonymous log's ids reset as tiles move
    named = bool((log["name"] != "").any())
    students = [_student(log, track, log["track_id"] == track, shown, difficult, clock, named)
                for track in np.unique(log["track_id"]).astype(int)]
    names = [st.name for st in students]
    return [dataclasses.replace(st, title=(st.name if names.count(st.name) == 1 else f"{st.name} (#{st.track_id})")
                                if st.name else f"#{st.track_id}") for st in students]


def _passing_tracks(log: dict[str, np.ndarray], clock: Clock) -> list[int]:
    """The track ids of passing detections, no students: never named, and on camera (attendance) for less than
    PASSING_S and half the session."""
    least = min(PASSING_S, float(clock.steps.sum()) / 2)
    tracks = [(int(track), log["track_id"] == track) for track in np.unique(log["track_id"])]
    return [track for track, rows in tracks
            if not (log["name"][rows] != "").any() and attendance(log, rows, clock).on_camera_s < least]


# A student whose most read name is followed by at least this many named rows of other names renamed themselves and
# is titled by the name most read on those: 20 s at the default 2.5 analyses a second, longer than a misreading is
# shown (the tag's vote puts it right at the next refreshes), so one near the lesson's end is never the title
RENAMED_ROWS = 50


def usual_name(names: list[str]) -> str:
    """A student's name from the names read on their rows (in time order): the name most read (the first read of
    those read as often), or, where RENAMED_ROWS or more rows of other names follow its last reading, the name most
    read on those (a student who renamed themselves is titled by their new name, however long they had the old one;
    a misreading shown now and then, or as the lesson ends, is not); given whole where it was read whole (a student
    read "Ana Maria Go..." in a 7x7 gallery for most of a lesson, and "Ana Maria Gonzalez" in a larger tile, is Ana
    Maria Gonzalez; of two whole names that fit, the one read more), without a stray mark or the app's role ("(Host)");
    "" without any."""
    if not names:
        return ""
    counts = Counter(names)  # in the order first read
    most = _most_read(counts)
    alike = {name for name in counts if same_name(name, most)}
    last = max(k for k, name in enumerate(names) if name in alike)
    if len(names) - 1 - last >= RENAMED_ROWS:
        most = _most_read(Counter(names[last + 1:]))
    readings = {name: n for name, n in counts.items() if same_name(name, most)}
    whole = {name: n for name, n in readings.items() if not ELLIPSIS.search(name)} or readings
    best = _most_read(whole)
    return without_roles(functools.reduce(plainer, (name for name in whole if same_name(name, best))))


def _most_read(counts: Mapping[str, int]) -> str:
    """The name read most often (`counts`: each name's readings, in the order first read); of those read as often,
    the first read."""
    return max(counts, key=counts.__getitem__)


def _student(log, track, rows, shown, difficult, clock, named: bool) -> Student:
    """One track's Student (`rows`: its rows; `shown`: each row's label; `difficult`: whether that is a difficult
    state)."""
    faces = rows & ~log["camera_off"]
    probs = np.stack([log[c][faces] for c in PROBABILITY_COLUMNS], axis=1)
    shares = np.bincount(shown[faces], minlength=len(CLASS_NAMES)) / max(int(faces.sum()), 1)
    mean = probs.mean(0) if faces.any() else np.zeros(len(CLASS_NAMES))
    attention = log.get("attention")
    att = float(np.nanmean(attention[faces])) if attention is not None and np.isfinite(attention[faces]).any() \
        else None
    names = [n for n in log["name"][rows] if n]
    present = attendance(log, rows, clock)
    return Student(
        track_id=int(track), first_s=float(log["time_s"][rows].min()), last_s=float(log["time_s"][rows].max()),
        presence=present.on_camera_s / max(float(clock.steps.sum()), 1e-9),
        dominant=CLASS_NAMES[int(shares.argmax())] if faces.any() else "",
        mean_probs=dict(zip(CLASS_NAMES, mean.round(4).tolist())),
        difficulty=float(difficult[faces].mean()) if faces.any() else 0.0, attention=att,
        name=usual_name(names), attendance=present,
        concerns=tuple(concerns(log, rows, difficult, clock)) if named else (),
        label_shares=dict(zip(CLASS_NAMES, shares.round(4).tolist())))
