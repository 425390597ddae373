"""Faces anywhere on a screen: tiles -> windows -> BlazeFace per window -> screen coordinates -> merged."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.detect.blazeface import BlazeFace, Detection
from ferbot.detect.crops import check_rgb
from ferbot.detect.looks import grey_sample, region_look, same_scene, scene_difference
from ferbot.detect.merge import SAME_FACE_IOU, merge_duplicates
from ferbot.detect.tiling import (
    Window,
    find_tiles,
    is_stage,
    region_windows,
    side_windows,
    tile_windows,
)
from ferbot.geometry import SAME_TILE_IOU, Rect, screen_scale

# BlazeFace boxes run from the brows to the mouth, about 0.85 of a face drawn brows to chin: a box of 18 px is
# a face of about 21 px, as small as the classifier can still read.
MIN_BOX_PX = 18
FLAT_WINDOW_STD = 6.0  # a window this uniform (an empty camera-off tile) holds no face
CAMERA_OFF_SHARE = 0.6  # of a tile in one exactly flat colour: no video there
PROFILE_TOP_SPECKS = 0.1  # of a camera-off tile's top fifth that may differ from its colour around a profile picture
EDGE_TOLERANCE = 0.02  # of the window side: a box this close to an inner window edge is cut off by it
DIM_LEVEL = 80.0  # windows darker than this mean grey level, or flatter than LOW_CONTRAST, are stretched first
LOW_CONTRAST = 28.0
UNSURE_SCORE = 0.4  # the detector reports faces from this score up ...
SURE_SCORE = 0.6  # ... and those below this one are confirmed in a second window framed on them
CONFIRM_WINDOW = 3.5
CONFIRM_SCORE = 0.5
MIN_EYE_SPAN = 0.1  # of the box width: keypoints closer together are no pair of eyes (text, edges)
NOSE_OUTSIDE_EYES = 1.5  # of the eye span: how far beyond either eye the nose tip may lie (a turned head)
ASIDE_PER_FIND = 1  # tiles whose sides are also searched in each find, in turn (a second person beside the first)
TWO_PEOPLE_KEPT = 5  # finds (2 s at 2.5 a second, as the tracker keeps a face) a tile where two people were seen
#                      stays searched beside its first face: one of them may lean out of view for a moment
SAME_WEBCAM_SCALE = 2.0  # a second person beside the first at one webcam is at most this much larger or smaller
LOOK_INSIDE_EVERY = 10  # finds: blocks found to hold no meeting window's gallery are looked into again this often
PYRAMID_TURNS = 4  # finds over which a region searched at the last find too goes through its pyramid once


@dataclass(frozen=True)
class _SearchedRegion:
    """A region that is no tile (a whole screen without a gallery, a stage) as a find searched it: how it looked
    and the faces found in it."""

    region: Rect
    look: np.ndarray  # looks.region_look
    faces: list[Rect]


@dataclass(frozen=True)
class _TwoPeopleTile:
    """A tile in which a find saw two people or more: where it was, how it looked then (looks.region_look, which
    follows it when the app reorders its tiles) and at which find."""

    tile: Rect
    look: np.ndarray
    seen_at: int


class FaceFinder:
    """Finds faces on a whole screen with a detector that only sees faces filling a fair part of its input."""

    def __init__(self):
        self.detector = BlazeFace(min_confidence=UNSURE_SCORE)
        self.detector_calls = 0  # in the last find(), for benchmarks
        self.tiles: list[Rect] = []  # the meeting's tiles in the last find() ([]: no gallery)
        self._aside_turn = 0  # where the turns of looking beside a tile's first face go on
        self._two_people: list[_TwoPeopleTile] = []  # tiles seen with two people in the last TWO_PEOPLE_KEPT finds
        self._no_gallery: dict[tuple[int, int, int, int], np.ndarray] = {}  # find_tiles' blocks known to hold none
        self._finds = 0
        self._regions: list[_SearchedRegion] = []  # the regions the last find searched through their pyramid

    def find(self, image: np.ndarray, layout: np.ndarray | None = None) -> list[Detection]:
        """Every face in an RGB uint8 screen, in its pixel coordinates, one detection per face. `layout`: the same
        screen before parts of `image` were blanked (--exclude), read only for the meeting's tiles, in which no
        face is looked for: a black fill across a gutter joins tiles into a block of the wrong size."""
        check_rgb(image)
        if layout is not None and layout.shape != image.shape:
            raise ValueError(f"the layout's shape {layout.shape} is not the image's {image.shape}")
        self.detector_calls = 0
        height, width = image.shape[:2]
        self._finds += 1
        if self._finds % LOOK_INSIDE_EVERY == 0:  # a window's layout may have changed (a speaker view to a gallery)
            self._no_gallery.clear()
        tiles = self.tiles = find_tiles(image if layout is None else layout, self._no_gallery)
        searched, self._regions = self._regions, []
        if not tiles:
            return self._search_region(image, Rect(0, 0, width, height), searched)  # merged there
        two_people, unplaced = self._two_people_now(image, tiles)
        aside = self._aside_turn_now(len(tiles)) | set(two_people)
        found = []
        for index, tile in enumerate(tiles):
            if is_stage(tile, width * height):  # a stage beside a row of tiles: a room's camera, a slide
                found += self._search_region(image, tile, searched)
                continue
            faces = self._search_tile(image, tile)
            if faces and index in aside:
                faces += [face for face in self._run(image, side_windows(tile)) if _beside(face, faces)]
            if len(faces) >= 2:  # two people at one webcam, however they were found: both looked for next time
                two_people[index] = _TwoPeopleTile(tile, region_look(image, tile), self._finds)
            found += faces
        self._two_people = [seen for seen in [*two_people.values(), *unplaced]
                            if self._finds - seen.seen_at < TWO_PEOPLE_KEPT]
        return merge_duplicates(found)

    def _aside_turn_now(self, count: int) -> set[int]:
        """The ASIDE_PER_FIND tiles, of `count`, whose sides this find searches beyond the first face found (a
        second person at one webcam, off the tile's centre), in turn: a gallery's every tile is looked at now and
        then for little cost."""
        start = self._aside_turn % count
        self._aside_turn = start + ASIDE_PER_FIND
        return {(start + k) % count for k in range(min(ASIDE_PER_FIND, count))}

    def _two_people_now(self, image: np.ndarray, tiles: list[Rect]
                        ) -> tuple[dict[int, _TwoPeopleTile], list[_TwoPeopleTile]]:
        """The tiles where two people were seen in the last TWO_PEOPLE_KEPT finds, by index in `tiles` (each is
        searched beside its first face): found in the same place, or by how they look where the app has reordered
        its tiles (someone joined or spoke), so that both people stay found wherever the tile goes; and those
        not found now (a tile gone, or changed), kept for their time all the same."""
        if not self._two_people:
            return {}, []
        looks = [region_look(image, tile) for tile in tiles]
        now, unplaced = {}, []
        for seen in self._two_people:
            free = [i for i in range(len(tiles)) if i not in now]
            in_place = [i for i in free if tiles[i].iou(seen.tile) > SAME_TILE_IOU]
            # the likest tile within SAME_SCENE (where it was, of tiles as alike: in a gallery of people on like
            # walls, or dim rooms beside camera-off tiles, several may be), else where it was
            alike = [i for i in free if same_scene(seen.look, looks[i])]
            index = min(alike, key=lambda i: (scene_difference(seen.look, looks[i]), i not in in_place),
                        default=next(iter(in_place), None))
            if index is None:
                unplaced.append(seen)
            else:
                now[index] = dataclasses.replace(seen, tile=tiles[index])
        return now, unplaced

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> FaceFinder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _search_region(self, image: np.ndarray, region: Rect, searched: list[_SearchedRegion]) -> list[Detection]:
        """The faces of a region that is no tile: through its whole pyramid (region_windows) where the last find
        did not search it showing the same scene (a new screen, or a new layout); otherwise a PYRAMID_TURNS-th of
        the pyramid in turn (a new face is found within PYRAMID_TURNS finds) and windows around the faces found
        there last time: a 1080p screen without a gallery took 91 detector calls at every find."""
        look = region_look(image, region)
        before = next((s for s in searched if s.region.iou(region) > SAME_TILE_IOU and same_scene(s.look, look)),
                      None)
        windows = region_windows(region) if before is None else \
            region_windows(region, (self._finds, PYRAMID_TURNS), before.faces)
        faces = merge_duplicates(self._run(image, windows))
        self._regions.append(_SearchedRegion(region, look, [face.box for face in faces]))
        return faces

    def _search_tile(self, image: np.ndarray, tile: Rect) -> list[Detection]:
        """The faces of one tile: its centred square first; when that finds no whole face, windows covering the
        tile at the scale of the smallest face a webcam shows, then the mirror images of the centred square and of
        the cover windows as large as the tile's shorter side (BlazeFace is not symmetric: a masked or dim face it
        misses may show in the mirror; the smaller cover windows, many in a large tile, are left out). A camera-off
        tile only gets the first look (its profile picture sits in the middle)."""
        first, cover = tile_windows(tile)
        found = self._run(image, [first])
        if found or camera_off(image, tile):
            return found
        return self._run(image, cover) or self._run(image, [first, *side_windows(tile)], mirrored=True)

    def _run(self, image: np.ndarray, windows: list[Window], mirrored: bool = False) -> list[Detection]:
        """Plausible faces in screen coordinates that no inner window edge cuts; with `mirrored`, looked for in
        each window's mirror image."""
        complete = []
        for window in windows:
            x, y, w, h = window.rect.as_int()
            if w <= 0 or h <= 0 or grey_sample(image[y:y + h, x:x + w]).std() < FLAT_WINDOW_STD:
                continue
            for detection in self._detect(image, (x, y, w, h), mirrored):
                if (min(detection.box.w, detection.box.h) >= MIN_BOX_PX and plausible(detection)
                        and not _cut_by_window(detection.box, Rect(x, y, w, h), window.region)):
                    if detection.score < SURE_SCORE:
                        detection = self._confirmed(image, detection)
                    if detection is not None:
                        complete.append(detection)
        return complete

    def _confirmed(self, image: np.ndarray, detection: Detection) -> Detection | None:
        """An unsure face looked at again in a window framed on it (CONFIRM_WINDOW times its size): kept when the
        detector is sure of it there, or finds it with at least CONFIRM_SCORE both there and in that window's
        mirror image. Masked, dim and blurred faces pass; what only looked like a face from one window seldom does."""
        side = CONFIRM_WINDOW * max(detection.box.w, detection.box.h)
        height, width = image.shape[:2]
        frame = Rect.square(*detection.box.center, side).clipped(width, height).as_int()
        looks = []
        for mirrored in (False, True):
            seen = [again for again in self._detect(image, frame, mirrored) if again.score >= CONFIRM_SCORE
                    and plausible(again) and again.box.iou(detection.box) >= SAME_FACE_IOU]
            if not seen:
                return None
            looks.append(max(seen, key=lambda again: again.score))
            if looks[0].score >= SURE_SCORE:
                break
        return looks[0]

    def _detect(self, image: np.ndarray, window: tuple[int, int, int, int], mirrored: bool) -> list[Detection]:
        """The detector's faces in one window (x, y, w, h) of the screen, or in its mirror image, in screen
        coordinates; dim windows are stretched first."""
        x, y, w, h = window
        pixels = image[y:y + h, x:x + w]
        view = np.ascontiguousarray(pixels[:, ::-1]) if mirrored else pixels
        self.detector_calls += 1
        found = self.detector.detect(_stretched_if_dim(view))
        return [(d.mirrored(pixels.shape[1]) if mirrored else d).moved(x, y) for d in found]


def _beside(face: Detection, firsts: list[Detection]) -> bool:
    """Whether a face found beside a tile's first faces is another person at the same webcam: none of them, and
    about as large as one of them (within SAME_WEBCAM_SCALE: people at one webcam sit about as far from it)."""
    return (not any(face.box.iou(first.box) > SAME_FACE_IOU for first in firsts)
            and any(1 / SAME_WEBCAM_SCALE <= face.box.w / first.box.w <= SAME_WEBCAM_SCALE for first in firsts))


def plausible(detection: Detection) -> bool:
    """Whether the keypoints look like a face's: two eyes apart, the nose tip not far outside them. BlazeFace's
    rare boxes on text, icons and edges put the 'eyes' on top of each other or the nose far to a side."""
    right_eye, left_eye, nose = detection.keypoints[:3]
    span = abs(float(left_eye[0] - right_eye[0]))
    if span < MIN_EYE_SPAN * detection.box.w:
        return False
    nose_at = (float(nose[0]) - min(left_eye[0], right_eye[0])) / span
    return -NOSE_OUTSIDE_EYES <= nose_at <= 1 + NOSE_OUTSIDE_EYES


def _stretched_if_dim(pixels: np.ndarray) -> np.ndarray:
    """A dim or washed-out window with its grey levels stretched to the full range; others unchanged."""
    sample = grey_sample(pixels)
    if sample.mean() >= DIM_LEVEL and sample.std() >= LOW_CONTRAST:
        return pixels
    low, high = np.percentile(sample, (1, 99))
    if high - low < 1:
        return pixels
    levels = np.clip((np.arange(256, dtype=np.float32) - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8)
    return cv2.LUT(pixels, levels)  # a table of the 256 levels: a 1080p window converted to floats took 8 ms


def camera_off(image: np.ndarray, tile: Rect) -> bool:
    """Whether most of the tile is one exactly flat colour, as a meeting app paints behind a name or a profile
    picture. A camera's picture is never that flat (sensor noise, compression); a virtual background of one plain
    colour is, and so are the bars beside a phone's upright video; such a tile is only searched in its middle."""
    flat = _flat(image, tile)
    return flat.size == 0 or _mostly_flat(flat)


def profile_picture_tile(image: np.ndarray, tile: Rect) -> bool:
    """Whether the tile is camera-off (camera_off) with its flat colour across all of its top fifth but for
    PROFILE_TOP_SPECKS (an emoji reaction), as around a profile picture or a name in its middle; not a phone's
    upright video between flat bars, which runs from the tile's top to its bottom."""
    flat = _flat(image, tile)
    top_fifth = flat[:max(1, len(flat) // 5)]
    return flat.size > 0 and _mostly_flat(flat) and float(top_fifth.mean()) >= 1 - PROFILE_TOP_SPECKS


def _mostly_flat(flat: np.ndarray) -> bool:
    """Whether a share of at least CAMERA_OFF_SHARE of a tile's sampled pixels (_flat) is its flat colour."""
    return float(flat.mean()) >= CAMERA_OFF_SHARE


def _flat(image: np.ndarray, tile: Rect) -> np.ndarray:
    """Every fourth pixel of every fourth row of the tile (of a 1080p-like screen's: geometry.screen_scale): whether
    its colour is the tile's median colour (its channels' sum within 3 levels of the median sum: one level each)."""
    x, y, w, h = tile.as_int()
    step = 4 * screen_scale(image.shape[0])
    summed = image[y:y + h:step, x:x + w:step].astype(np.int16).sum(axis=2)
    return np.abs(summed - np.median(summed)) <= 3 if summed.size else np.zeros((0, 0), bool)


def _cut_by_window(box: Rect, window: Rect, region: Rect) -> bool:
    """Whether the box touches or crosses an edge of the window that lies inside the region."""
    tol_x, tol_y = EDGE_TOLERANCE * window.w, EDGE_TOLERANCE * window.h
    return ((window.x > region.x + 1 and box.x <= window.x + tol_x)
            or (window.x2 < region.x2 - 1 and box.x2 >= window.x2 - tol_x)
            or (window.y > region.y + 1 and box.y <= window.y + tol_y)
            or (window.y2 < region.y2 - 1 and box.y2 >= window.y2 - tol_y))
