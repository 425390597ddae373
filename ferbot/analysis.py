"""One analysed frame: excluded regions blanked -> own feed located -> faces detected -> crops -> one classifier
call -> head poses -> (with names: the tiles' name tags) -> tracked faces."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ferbot.capture.base import Frame
from ferbot.classify import EmotionClassifier
from ferbot.detect import Detection, FaceFinder, face_crops
from ferbot.detect.facemesh import FaceMesh
from ferbot.detect.finder import profile_picture_tile
from ferbot.exclusions import Exclusions, blank_regions
from ferbot.geometry import Rect
from ferbot.names import NameReader, NameTag
from ferbot.selfview import MarkerLayout, find_own_feed, shown_part
from ferbot.track import FaceTracker, TrackedFace
from ferbot.track.names import compatible

log = logging.getLogger(__name__)

HIDDEN_SHARE = 0.5  # of the smaller of a tile and a hidden region: an overlap beyond which the tile is hidden
# A tile this many times the usual tile's area (the lower median) is a shared screen (or a speaker's stage), not a
# participant's tile: a slide's white page would pass for a camera-off tile, and the text at its bottom left for a name.
# Measured against the other tiles, whatever share of the screen the tile covers: ferbot.detect.tiling.is_stage,
# another rule, measures a block against the screen (most of it) to tell the finder where to search a stage whole
STAGE_AREA = 4.0


@dataclass(frozen=True)
class CameraOff:
    """A tile showing a name but no face: that student is there with the camera off."""

    track_id: int
    name: str
    tile: Rect


@dataclass(frozen=True)
class Analysis:
    """The result for one frame. timings: seconds per step ('self_view', 'detect', 'crop', 'classify', 'pose',
    'names' with --names, 'track') and 'total'."""

    frame_index: int
    timestamp: float
    faces: tuple[TrackedFace, ...]
    own_feeds: tuple[Rect, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    camera_off: tuple[CameraOff, ...] = ()

    @property
    def visible_faces(self) -> list[TrackedFace]:
        """The faces detected in this very frame."""
        return [f for f in self.faces if f.missed == 0]

    @property
    def students(self) -> list[TrackedFace]:
        """The faces detected in this very frame that are people, not still pictures."""
        return [f for f in self.visible_faces if not f.picture]


class FrameAnalyzer:
    """detect -> classify -> head pose -> track for one frame at a time; faces inside ferbot's own output are
    ignored. The head pose is FaceMesh.pose: the face-landmark model's yaw where the keypoints see a turn, and
    the eyes where they see a nod down.

    `excluded` regions are blanked before anything looks at the frame, so no face in them is
    ever detected, classified, tracked or logged. With a `names` reader, each face's track follows the name on its
    tile, and named tiles without a face are reported as cameras off (never its own feed's tile nor an excluded one).
    Closing it (or leaving its `with` block) closes the face finder it made, not one it was given.
    """

    def __init__(self, classifier: EmotionClassifier, own_output: MarkerLayout, finder: FaceFinder | None = None,
                 tracker: FaceTracker | None = None, excluded: Exclusions | None = None,
                 names: NameReader | None = None):
        self.classifier = classifier
        self.own_output = own_output
        self._owns_finder = finder is None
        self.finder = finder or FaceFinder()
        self.tracker = tracker or FaceTracker()
        self.excluded = excluded or Exclusions()
        self.mesh = FaceMesh()
        self.names = names
        self._own_feed_told = False  # said once that ferbot's own feed is on screen

    def analyze(self, frame: Frame) -> Analysis:
        """Analyse one frame; boxes are in the frame's pixels."""
        clock = _StepClock()
        excluded = self.excluded.in_frame(frame.image.shape[1], frame.image.shape[0])
        image = blank_regions(frame.image, excluded)
        own_feeds = find_own_feed(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), self.own_output)
        clock.lap("self_view")
        found = self.finder.find(image, layout=frame.image)
        own_feeds = [shown_part(feed, self.finder.tiles) for feed in own_feeds]
        if own_feeds and not self._own_feed_told:
            self._own_feed_told = True
            feed = own_feeds[0]
            log.info("ferbot's own feed (its markers) is on screen at %d,%d (%dx%d): the faces in it are not "
                     "analysed (FER Cam shared in the meeting, or a video ferbot recorded)", feed.x, feed.y, feed.w,
                     feed.h)
        detections = [d for d in found if not any(feed.contains_point(*d.box.center) for feed in own_feeds)]
        clock.lap("detect")
        crops = face_crops(image, [d.box for d in detections])
        clock.lap("crop")
        probabilities = self.classifier.predict_proba(crops)
        clock.lap("classify")
        poses = [self.mesh.pose(image, d) for d in detections]
        clock.lap("pose")
        tags = self._name_tags(image, student_tiles(self.finder.tiles, [*own_feeds, *excluded]), frame.timestamp,
                               clock)
        faces = self.tracker.update(detections, probabilities, frame.timestamp, crops, poses,
                                    None if self.names is None else [name_at(tags, d.box) for d in detections],
                                    on_profile_picture_tiles(image, self.finder.tiles, detections),
                                    [tag.name for tag in tags])
        off = cameras_off(tags, [f for f in faces if not f.picture])
        camera_off = tuple(CameraOff(track_id, tag.name, tag.tile)
                           for track_id, tag in zip(self.tracker.camera_off_ids([t.name for t in off]), off))
        clock.lap("track")
        return Analysis(frame.index, frame.timestamp, tuple(faces), tuple(own_feeds), clock.timings(), camera_off)

    def _name_tags(self, image: np.ndarray, tiles: Sequence[Rect], timestamp: float,
                   clock: _StepClock) -> list[NameTag]:
        """The tiles' names, with a names reader ([] without one)."""
        if self.names is None:
            return []
        tags = self.names.read(image, tiles, timestamp)
        clock.lap("names")
        return tags

    def close(self) -> None:
        if self._owns_finder:
            self.finder.close()

    def __enter__(self) -> FrameAnalyzer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def student_tiles(tiles: Sequence[Rect], hidden: Sequence[Rect]) -> list[Rect]:
    """The tiles that may show a student: not those mostly covered by a `hidden` region (ferbot's own feed, an
    --exclude region), nor those holding one mostly inside them, nor a shared screen beside them (STAGE_AREA). Their
    name tags are never read, so the teacher, a student who opted out or a slide is never reported with the camera
    off."""
    areas = sorted(tile.area for tile in tiles)
    usual = areas[(len(areas) - 1) // 2] if areas else 0.0  # the lower median: a small stray block cannot set it
    return [tile for tile in tiles if tile.area <= STAGE_AREA * usual and not any(
        tile.intersection_area(region) > HIDDEN_SHARE * min(tile.area, region.area) for region in hidden)]


def on_profile_picture_tiles(image: np.ndarray, tiles: Sequence[Rect],
                             detections: Sequence[Detection]) -> list[bool]:
    """Whether each detection's centre lies on a tile that shows a profile picture on the app's flat colour
    (ferbot.detect.finder.profile_picture_tile)."""
    holding = [next((i for i, tile in enumerate(tiles) if tile.contains_point(*d.box.center)), None)
               for d in detections]
    profile = {i: profile_picture_tile(image, tiles[i]) for i in set(holding) - {None}}
    return [profile.get(i, False) for i in holding]


def name_at(tags: Sequence[NameTag], box: Rect) -> str | None:
    """The name on the tile holding the box's centre ('' where its tag is unread, None when no tile holds it)."""
    return next((tag.name for tag in tags if tag.tile.contains_point(*box.center)), None)


def cameras_off(tags: Sequence[NameTag], students: Sequence[TrackedFace]) -> list[NameTag]:
    """The named tiles without a student's face in them (`students`: the tracked faces of people, those the
    detector missed lately included, which hold only a tile of their own name: the app may have moved another
    participant to where they were last seen)."""
    return [tag for tag in tags if tag.name and not any(
        tag.tile.contains_point(*f.box.center) and (f.missed == 0 or compatible(f.name, tag.name)) for f in students)]


class _StepClock:
    """Wall time of consecutive steps."""

    def __init__(self):
        self._start = self._last = time.perf_counter()
        self._laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self._laps[name] = now - self._last
        self._last = now

    def timings(self) -> dict[str, float]:
        return {**self._laps, "total": self._last - self._start}
