"""Following faces from one analysed frame to the next: stable ids, smoothed class probabilities, and still
pictures (a profile picture on a camera-off tile) told apart from people."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.detect.blazeface import Detection
from ferbot.detect.headpose import HeadPose, head_pose
from ferbot.emotions import CLASS_NAMES
from ferbot.geometry import Rect, iou_matrix
from ferbot.track.attention import PoseReference, first_look_facing
from ferbot.track.matching import greedy_pairs, mutual_best_pairs
from ferbot.track.names import NameBook, compatible, look_unlikeness, name_pairs, plainer, same_name, unlikeness
from ferbot.track.smoothing import ema

PICTURE_AFTER_S = 10.0  # a face whose crop has not changed for this long is a still picture
STILL_DIFFERENCE = 1.5  # mean grey-level change of a face's thumbnail below which it has not changed
THUMBNAIL = 16  # px: the side of the thumbnail compared, small enough to average away sensor noise
# A face keeps its id this long after its last detection, whatever the analysis rate: five analyses at the default
# rate (ferbot.pipeline.DEFAULT_ANALYSIS_RATE); and through KEEP_MISSES missed analyses however far apart they come
# (a machine that analyses a large gallery only every few seconds).
KEEP_S = 2.0
KEEP_MISSES = 2
MIN_IOU = 0.3  # a detection overlapping a face's last box this much is that face
MAX_CENTRE_SHIFT = 0.5  # else, one whose centre moved at most this many box sides is
# Before overlap, where names let a look decide (a face with no name read: no --names, or a script the OCR cannot
# read; or a student who renamed themselves: FaceTracker._look_decides), a face whose thumbnail is each other's
# likest, this alike (look_unlikeness) and LOOK_MARGIN more alike than any other face's or detection's, follows its
# look (a tile the app moved). The same
# face a moment later reads 0.0-0.1 in a live gallery, and 0.25 or less in 97 pairs of 100 even when turned,
# moved, scaled and lit otherwise (FER2013 faces); two people 0.25 or less in 15 pairs of 10,000, so a newcomer on
# another tile takes the track of a student who left at that moment in 0.2% of such moments (none in a gallery of
# 25, where other faces are likelier).
SAME_LOOK = 0.25
LOOK_MARGIN = 0.2
ATTENTION_S = 3.0  # time constant of a face's attention: a glance aside barely moves it


@dataclass(frozen=True, eq=False)  # compared by identity: it holds arrays
class TrackedFace:
    """One face followed over time; what the renderer draws and the log writes.

    box, keypoints and pose are the latest detection's, in source-frame pixels; probabilities are smoothed over
    time (CLASS_NAMES order); facing says whether the latest detection faced the screen, judged against
    `reference`, the face's usual pose (ferbot.track.attention); attention is the smoothed share of recent
    detections that faced it (0-1); missed counts the analysed frames since the face was last detected;
    still_since is when its crop last changed, and picture says it has not changed for PICTURE_AFTER_S (a
    profile picture, not a person: left out of the class mood, the attention figure and the log); moved says its
    crop changed at this analysis, not its track's first, which only a live video does (alive); name is the name
    on its tile, with --names; on_profile_tile says its latest detection lay on a tile that looks like a camera-off
    one with a profile picture.
    """

    track_id: int
    box: Rect
    keypoints: np.ndarray
    score: float
    probabilities: np.ndarray
    last_seen: float
    pose: HeadPose
    attention: float
    missed: int = 0
    facing: bool = True
    reference: PoseReference = PoseReference()
    still_since: float = 0.0
    thumbnail: np.ndarray | None = None  # the face crop, small, as it was at still_since
    name: str = ""  # the name on the face's tile (--names), '' when not read
    moved: bool = False  # whether its crop changed at this analysis (never at the track's first)
    on_profile_tile: bool = False

    @property
    def picture(self) -> bool:
        """Whether the face is a still picture (a profile picture, a frozen video), not a student: its crop has not
        changed for PICTURE_AFTER_S seconds (a track on a profile-picture tile starts that long unchanged). A
        photograph on the wall of a live webcam's room seldom is: its box shifts with the webcam's noise."""
        return self.thumbnail is not None and self.last_seen - self.still_since >= PICTURE_AFTER_S

    @property
    def alive(self) -> bool:
        """Whether the face is known to be a person's live video at this analysis, not a still picture: its crop
        has just changed (or cannot be compared: no crops). A camera turned off on a tracked face puts a picture
        on its track, so having moved before says nothing now."""
        return self.thumbnail is None or self.moved

    @property
    def emotion(self) -> str:
        return CLASS_NAMES[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))


class FaceTracker:
    """Matches each frame's detections to known faces by the name on their tile, then (where names let a look
    decide) by look, then by box overlap, then by nearby centre (_match).

    A face keeps its id for `keep_s` seconds after its last detection, and through KEEP_MISSES missed analyses
    however slow. Probabilities are averaged with time constant `smoothing_s` seconds so labels do not flicker;
    whether the face is turned to its screen (against its own usual pose, ferbot.track.attention), with time
    constant ATTENTION_S seconds, so a glance aside does not count as drifting away.
    """

    def __init__(self, keep_s: float = KEEP_S, smoothing_s: float = 1.0):
        self.keep_s = keep_s
        self.smoothing_s = smoothing_s
        self._faces: list[TrackedFace] = []
        self._next_id = 1
        self._book = NameBook()  # with names: every id each name has had
        self._cameras_off: list[tuple[str, int]] = []  # the last analysis's camera-off tiles: (name, id)

    def update(self, detections: Sequence[Detection], probabilities: np.ndarray, timestamp: float,
               crops: np.ndarray | None = None, poses: Sequence[HeadPose] | None = None,
               names: Sequence[str | None] | None = None,
               profile_tiles: Sequence[bool] | None = None,
               tile_names: Sequence[str] | None = None) -> list[TrackedFace]:
        """Fold in one analysed frame (probabilities: (N, 7), one row per detection; crops: the (N, 48, 48) face
        crops, which tell still pictures from people; poses: each detection's head pose, by default from its
        keypoints; names: the name on each detection's tile, which ferbot.track.names follows: '' where its tag is
        unread, and None where no tile holds it; profile_tiles: whether each detection lies on a camera-off tile that
        looks like one with a profile picture; tile_names: the names read on all the screen's tiles, those without a
        face included, by default the detections'); the live faces by id. A face whose name is on no tile (the only
        one) and whose look is that of a face on its tile under a name never read before is the same student,
        renamed ("iPad de María", now "María López"): it keeps its id, under the new name (_look_decides). A face
        on a tile whose tag is unread takes no track that has a name: the meeting app may have just put another
        participant there (tiles reorder), whose tag could not be read yet, and the name of the one before would go
        with their face. A new track on such a
        tile, and a track whose video gives way to such a tile (a camera turned off), is a still picture from then
        until its crop changes (a person on a plain virtual background changes at the next analysis), not only after
        PICTURE_AFTER_S."""
        seen = _observations(detections, probabilities, crops, poses, names, profile_tiles)
        pairs = self._match(seen, [o.name for o in seen] if tile_names is None else tile_names)
        matched_faces, matched_detections = {f for f, _ in pairs}, {d for _, d in pairs}
        faces = [self._followed(self._faces[f], seen[d], timestamp) for f, d in pairs]
        faces += [dataclasses.replace(face, missed=face.missed + 1) for i, face in enumerate(self._faces)
                  if i not in matched_faces and self._kept(face, timestamp)]
        taken = {face.track_id for face in faces}
        for d, observation in enumerate(seen):
            if d not in matched_detections:
                faces.append(self._new_face(observation, timestamp, taken))
                taken.add(faces[-1].track_id)
        faces = [self._under_name_id(face, taken) for face in faces]
        for face in faces:  # a face whose name was read only now
            self._book.add(face.name, face.track_id)
        self._faces = sorted(faces, key=lambda f: f.track_id)
        return list(self._faces)

    def _kept(self, face: TrackedFace, timestamp: float) -> bool:
        """Whether a face not detected at `timestamp` keeps its track (class docstring)."""
        return face.missed < KEEP_MISSES or timestamp - face.last_seen <= self.keep_s

    def camera_off_ids(self, names: Sequence[str]) -> list[int]:
        """Ids for named tiles without a face (a camera off): the id a camera-off tile of the name had in the last
        analysis, else the id the name had, unless a person's face holds it (one the detector missed lately too: its
        tile does not count as camera off); failing that, an id of the name held only by a face the detector missed
        lately (the app moved the tile as the camera went off: the id goes to the camera-off tile and that track
        ends); a name never seen before gets a new one. (Two "iPhone"s, one with its camera off: while the other is
        away, the camera-off one keeps its own id, not the first the name had.)"""
        people = [f for f in self._faces if not f.picture]
        held, detected = {f.track_id for f in people}, {f.track_id for f in people if f.missed == 0}
        ids: list[int] = []
        for name in names:
            taken = held | set(ids)
            track_id = (self._still_off(name, taken) or self._book.claim(name, taken)) if name else None
            ids.append(self._name_id(name, detected | set(ids)) if track_id is None else track_id)
        self._faces = [f for f in self._faces if f.missed == 0 or f.track_id not in ids]
        self._cameras_off = list(zip(names, ids))
        return ids

    def _still_off(self, name: str, taken: set[int]) -> int | None:
        """The id a camera-off tile of this name had in the last analysis, if the name has had it (a whole name is
        not a cut one: NameBook) and no face nor other tile holds it."""
        return next((track_id for before, track_id in self._cameras_off if same_name(before, name)
                     and self._book.holds(name, track_id) and track_id not in taken), None)

    def _name_id(self, name: str, taken: set[int]) -> int:
        """The name's first id not `taken`, else a new id (recorded for the name)."""
        track_id = self._book.claim(name, taken) if name else None
        if track_id is None:
            track_id = self._new_id()
            self._book.add(name, track_id)
        return track_id

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _under_name_id(self, face: TrackedFace, taken: set[int]) -> TrackedFace:
        """The face under its name's id where its name was read only now (its tag unread or cut short at first): the
        name's earlier id that no face holds (a returning student whose tag is read late is not split in two), else
        a new id where the face had another name's (a cut tag's only fitting name was another student's)."""
        if not face.name or self._book.holds(face.name, face.track_id):
            return face
        track_id = self._book.claim(face.name, taken)
        if track_id is None and self._book.other_name_had(face.name, face.track_id):
            track_id = self._new_id()
        if track_id is None:
            return face
        taken.add(track_id)
        return dataclasses.replace(face, track_id=track_id)

    def _new_face(self, seen: _Observation, timestamp: float, taken: set[int]) -> TrackedFace:
        """A new track for a face no track follows, under its name's id (one not `taken`) or a new one."""
        face = _first_sight(self._name_id(seen.name, taken), seen, timestamp)
        return _on_profile_tile(face) if seen.profile_tile else face

    def _followed(self, face: TrackedFace, seen: _Observation, timestamp: float) -> TrackedFace:
        """The face's track after this detection. A still picture that comes alive (a camera turned on where the
        profile picture was) starts afresh, under its id and name: the picture's pose is not the student's usual
        one, nor its history their attention. A face whose tile turns into a profile picture's (a camera turned off)
        is a picture from then on, until its crop changes. A face paired with a detection under another name was
        renamed (_match pairs no other)."""
        if not compatible(face.name, seen.name):
            face = self._renamed(face, seen.name)
        if face.picture and _changed(face, seen.thumbnail):
            followed = _first_sight(face.track_id, dataclasses.replace(seen, name=plainer(face.name, seen.name)),
                                    timestamp)
        else:
            followed = _still(self._updated(face, seen, timestamp), seen.thumbnail)
            if seen.profile_tile and not face.on_profile_tile:
                followed = _on_profile_tile(followed)
        return dataclasses.replace(followed, on_profile_tile=seen.profile_tile)

    def _match(self, seen: Sequence[_Observation], tile_names: Sequence[str]) -> list[tuple[int, int]]:
        """(face index, detection index) pairs: faces and detections of the same name first
        (ferbot.track.names); then, where names let a look decide, faces and detections each other's likest look
        (_look_pairs: a tile the meeting app moved keeps its student's track, not the one who sat there); then
        greedy by overlap, then greedy by centre distance, never across two names nor from a named
        face to a detection on a tile whose tag is unread."""
        known = [f.box for f in self._faces]
        boxes, names = [o.detection.box for o in seen], [o.name for o in seen]
        pairs = name_pairs([f.name for f in self._faces], names, lambda f, d: unlikeness(
            self._faces[f].thumbnail, seen[d].thumbnail, known[f], boxes[d]))
        pairs += self._look_pairs(seen, pairs, tile_names)
        free_f, free_d = _unpaired(len(known), len(boxes), pairs)
        allowed = self._allowed(names, [o.tag_unread for o in seen])
        overlap = np.where(allowed[np.ix_(free_f, free_d)],
                           iou_matrix([known[f] for f in free_f], [boxes[d] for d in free_d]), 0.0)
        pairs += [(free_f[f], free_d[d]) for f, d in greedy_pairs(-overlap, -MIN_IOU)]
        free_f, free_d = _unpaired(len(known), len(boxes), pairs)
        shift = np.array([[_centre_shift(known[f], boxes[d]) if allowed[f, d] else np.inf for d in free_d]
                          for f in free_f], float).reshape(len(free_f), len(free_d))
        return pairs + [(free_f[f], free_d[d]) for f, d in greedy_pairs(shift, MAX_CENTRE_SHIFT)]

    def _look_pairs(self, seen: Sequence[_Observation], pairs: list[tuple[int, int]],
                    tile_names: Sequence[str]) -> list[tuple[int, int]]:
        """(face, detection) pairs, of those `pairs` leaves free, whose looks are each other's likest (SAME_LOOK,
        LOOK_MARGIN) among all the faces and all the detections, those paired by name included: a newcomer is
        judged against every face on the screen, not only the few left over (_look_decides says which may pair)."""
        paired_f, paired_d = {f for f, _ in pairs}, {d for _, d in pairs}
        if len(paired_f) == len(self._faces) or len(paired_d) == len(seen):  # the usual analysis: all named
            return []
        unlike = look_unlikeness([f.thumbnail for f in self._faces], [o.thumbnail for o in seen])
        lost = self._names_lost(tile_names, seen)
        return [(f, d) for f, d in mutual_best_pairs(unlike, SAME_LOOK, LOOK_MARGIN)
                if f not in paired_f and d not in paired_d and self._look_decides(self._faces[f], seen[d], lost)]

    def _names_lost(self, tile_names: Sequence[str], seen: Sequence[_Observation]) -> list[int]:
        """The ids of the named faces whose name is read on no tile (`tile_names`) now, and whose place shows no
        face on a tile whose tag is unread (a student whose tag went unread for an analysis is still there)."""
        return [face.track_id for face in self._faces
                if face.name and not any(same_name(face.name, shown) for shown in tile_names if shown)
                and not any(o.tag_unread and _same_place(face.box, o.detection.box) for o in seen)]

    def _look_decides(self, face: TrackedFace, seen: _Observation, lost: list[int]) -> bool:
        """Whether the face may follow its look to the detection `seen`: always where the face has no name (none
        read, or none that the OCR can read: it would take a new id wherever the app moves its tile). Where it has
        one, only as a rename: to a name that has had no other id (NameBook: read for the first time), on the tile
        where the face was (a rename does not move the tile: _same_place), while the face is the only one whose name
        is read on no tile (`lost`, _names_lost: where the teacher pages, or several leave as others join, the
        newcomers are not the leavers renamed). Never from a name to a tag unread: anyone may be there."""
        if not face.name:
            return True
        return (lost == [face.track_id] and bool(seen.name) and self._book.claim(seen.name, {face.track_id}) is None
                and _same_place(face.box, seen.detection.box))

    def _renamed(self, face: TrackedFace, name: str) -> TrackedFace:
        """The face under the new name it renamed itself to, which takes its id from the old name (NameBook: a
        newcomer under the old name, a device's "iPhone" say, is not this student)."""
        self._book.release(face.name, face.track_id)
        self._book.add(name, face.track_id)
        return dataclasses.replace(face, name=name)

    def _allowed(self, names: Sequence[str], tags_unread: Sequence[bool]) -> np.ndarray:
        """Which (face, detection) pairs may match: any without names; with names, never across two names nor
        from a named face to a detection on a tile whose tag is unread."""
        allowed = np.ones((len(self._faces), len(names)), bool)
        if any(names) and self._faces:
            allowed[:] = [[compatible(face.name, name) for name in names] for face in self._faces]
        allowed[np.ix_([bool(face.name) for face in self._faces], list(tags_unread))] = False
        return allowed

    def _updated(self, face: TrackedFace, seen: _Observation, timestamp: float) -> TrackedFace:
        """The face's track with this analysis folded in: emotions and attention smoothed, its reference updated."""
        dt = timestamp - face.last_seen
        smoothed = ema(face.probabilities, np.asarray(seen.probabilities, np.float32), dt, self.smoothing_s)
        facing = face.reference.facing(seen.pose)  # judged before this pose joins the reference
        attention = float(ema(face.attention, float(facing), dt, ATTENTION_S))
        detection = seen.detection
        return dataclasses.replace(face, box=detection.box, keypoints=detection.keypoints, score=detection.score,
                                   probabilities=smoothed.astype(np.float32), last_seen=timestamp, pose=seen.pose,
                                   attention=attention, missed=0, facing=facing,
                                   reference=face.reference.observed(timestamp, seen.pose),
                                   name=plainer(face.name, seen.name))


def _unpaired(faces: int, detections: int, pairs: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """The face and detection indices that no pair holds."""
    paired_f, paired_d = {f for f, _ in pairs}, {d for _, d in pairs}
    return [f for f in range(faces) if f not in paired_f], [d for d in range(detections) if d not in paired_d]


def _observations(detections: Sequence[Detection], probabilities: np.ndarray, crops: np.ndarray | None,
                  poses: Sequence[HeadPose] | None, names: Sequence[str | None] | None,
                  profile_tiles: Sequence[bool] | None) -> list[_Observation]:
    """FaceTracker.update's arguments, per detection, with the defaults of those not given."""
    count = len(detections)
    thumbnails = [None] * count if crops is None else [_thumbnail(c) for c in crops]
    poses = [head_pose(d.keypoints) for d in detections] if poses is None else poses
    names = [None] * count if names is None else names
    profile_tiles = [False] * count if profile_tiles is None else profile_tiles
    return [_Observation(detection, pose, p, thumbnail, name or "", profile_tile, tag_unread=name == "")
            for detection, pose, p, thumbnail, name, profile_tile  # strict: another length is a caller's bug
            in zip(detections, poses, probabilities, thumbnails, names, profile_tiles, strict=True)]


def _thumbnail(crop: np.ndarray) -> np.ndarray:
    return cv2.resize(crop, (THUMBNAIL, THUMBNAIL), interpolation=cv2.INTER_AREA).astype(np.float32)


@dataclass(frozen=True)
class _Observation:
    """What one analysis says of one detected face (FaceTracker.update's arguments, per detection)."""

    detection: Detection
    pose: HeadPose
    probabilities: np.ndarray
    thumbnail: np.ndarray | None
    name: str
    profile_tile: bool
    tag_unread: bool = False  # on a tile whose name tag is unread: anyone may be there


def _first_sight(track_id: int, seen: _Observation, timestamp: float) -> TrackedFace:
    """A track with no history: judged facing by the first-look window (attention.first_look_facing)."""
    facing = first_look_facing(seen.pose)
    detection = seen.detection
    return TrackedFace(track_id, detection.box, detection.keypoints, detection.score,
                       np.asarray(seen.probabilities, np.float32), timestamp, seen.pose, float(facing), facing=facing,
                       reference=PoseReference().observed(timestamp, seen.pose), still_since=timestamp,
                       thumbnail=seen.thumbnail, name=seen.name)


def _on_profile_tile(face: TrackedFace) -> TrackedFace:
    """The face taken for a profile picture, from now until its crop changes: as if unchanged for PICTURE_AFTER_S
    already."""
    return dataclasses.replace(face, still_since=face.last_seen - PICTURE_AFTER_S, on_profile_tile=True)


def _changed(face: TrackedFace, thumbnail: np.ndarray | None) -> bool:
    """Whether the face's crop is no longer the one its stillness is timed from (or cannot be compared)."""
    return (thumbnail is None or face.thumbnail is None
            or float(np.abs(thumbnail - face.thumbnail).mean()) > STILL_DIFFERENCE)


def _still(face: TrackedFace, thumbnail: np.ndarray | None) -> TrackedFace:
    """The face with its stillness brought up to date: the clock restarts whenever its thumbnail changes."""
    if _changed(face, thumbnail):
        return dataclasses.replace(face, thumbnail=thumbnail, still_since=face.last_seen, moved=True)
    return dataclasses.replace(face, moved=False)


def _same_place(a: Rect, b: Rect) -> bool:
    """Whether two boxes are where one face would be at two analyses on one tile (MIN_IOU, MAX_CENTRE_SHIFT)."""
    return a.iou(b) >= MIN_IOU or _centre_shift(a, b) <= MAX_CENTRE_SHIFT


def _centre_shift(a: Rect, b: Rect) -> float:
    """Distance between box centres in units of the larger box's side; inf when sizes differ more than 2x."""
    side_a, side_b = max(a.w, a.h), max(b.w, b.h)
    if min(side_a, side_b) <= 0 or max(side_a, side_b) > 2 * min(side_a, side_b):
        return float("inf")
    (ax, ay), (bx, by) = a.center, b.center
    return float(np.hypot(ax - bx, ay - by) / max(side_a, side_b))
