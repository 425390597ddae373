"""Eyes cast down: where the eyelids and the brows sit, for heads bowed over a desk.

A head bowed over notes with the eyes cast down reads only 15-30 degrees down from the keypoints and from the mesh
alike, like a student reading a screen below a camera above it; what differs is the eyes. Looking down lowers the
upper eyelid towards the line between the eye's corners (and the lower lid with it), while the brows stay where
they are. So where the keypoints read a face more than CAST_DOWN_GATE degrees down, or more than
CAST_DOWN_GATE_YAW sideways (a head bowed and turned reads nearly level: its nod shows in neither the keypoints nor
the mesh), the face counts as looking down at its desk when both lids sit low and the brows are not lowered:
lowered brows (a frown, an angry face) pull the upper lids down too, with the eyes on the screen
(benchmarks/attention.py measures each part).

The eyelids come from MediaPipe's iris-landmark model (ferbot/assets/models/iris_landmark.tflite), which takes a
64x64 RGB crop of one eye and returns 71 eye-contour points and 5 iris points; OpenCV's TFLite reader runs it. It
runs on one eye, the one the picture shows wider (nearer the camera): on the benchmark's tuning half one eye caught
as many bows as both at half the cost. The eye is cropped as MediaPipe's iris graph does: square, 2.3 times the
distance between the face mesh's eye corners (33-133, 362-263), the corners level, the subject's left eye mirrored.
Contour points 0 and 8 are the corners, 1-7 the lower lid and 9-15 the upper lid. The brows come from the face mesh
itself, and so does a first look at the upper lids: the iris model runs only where that look leaves the eyes
possibly cast down (about half the faces it would otherwise run on), at about 4 ms a face on a CPU core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ferbot.detect.crops import affine_crop, square_crop
from ferbot.detect.models import LandmarkModel

MODEL_FILE = "iris_landmark.tflite"
SIZE = 64  # the model's square input, in pixels
EYE_SCALE = 2.3  # the crop's side in eye widths (corner to corner)
EYES = ((33, 133, False), (362, 263, True))  # mesh corners of each eye, and whether its crop is mirrored
# Mesh points along the lower edge of each brow (the subject's right, then left).
BROWS = ((46, 53, 52, 65, 55), (276, 283, 282, 295, 285))

# Chosen on the benchmark's tuning half and the repository's photographs (benchmarks/attention.py): where the
# keypoints read a face more than CAST_DOWN_GATE degrees down or CAST_DOWN_GATE_YAW sideways, its eyes are cast down
# when the iris model puts the upper lid lower than LOW_UPPER_LID and the lower lid lower than LOW_LOWER_LID (not
# raised, as in a squint), and the brows sit higher than LOWERED_BROWS (the tuning faces at their screen have lower
# brows in 5% of pictures). The iris model runs only where the brows pass and the mesh's own upper lid sits lower
# than MESH_OPEN_UPPER_LID: eyes clearly open by the mesh were never cast down by the iris model on the tuning half.
CAST_DOWN_GATE = 10.0
CAST_DOWN_GATE_YAW = 15.0  # the smallest of 7.5-20 that read no more tuning faces at their screen as turned
LOW_UPPER_LID, LOW_LOWER_LID = -0.08, 0.05
LOWERED_BROWS = 0.40
MESH_OPEN_UPPER_LID = -0.12
# A face whose eyes are cast down reads at least this far down: head and eyes together look at the desk, beyond
# every "facing" limit (ferbot.track.attention).
CAST_DOWN_PITCH = 45.0
# Mesh points along the upper lid of each eye, between the corners (the subject's right, then left).
MESH_UPPER_LIDS = ((246, 161, 160, 159, 158, 157, 173), (398, 384, 385, 386, 387, 388, 466))


@dataclass(frozen=True)
class EyeReading:
    """Where the eyelids and brows sit, in eye widths (corner to corner) from the line between the eye's corners:
    `upper` and `lower` lid from the iris model on the eye seen wider, positive below it (y down: the upper lid reads
    about -0.13 on open eyes at the screen, nearer 0 when cast down or narrowed); `brows` from the mesh, positive
    above it (about 0.55), and `mesh_upper`, the mesh's own upper lid like `upper`, both eyes' mean."""

    upper: float
    lower: float
    brows: float
    mesh_upper: float

    @property
    def lids_low(self) -> bool:
        """Whether the iris model puts the upper lid low and the lower lid not raised."""
        return self.upper > LOW_UPPER_LID and self.lower > LOW_LOWER_LID

    @property
    def cast_down(self) -> bool:
        """Whether the eyes look down at a desk rather than at a screen (module docstring)."""
        return may_be_cast_down(self.brows, self.mesh_upper) and self.lids_low


def may_be_cast_down(brows: float, mesh_upper: float) -> bool:
    """Whether the mesh's brows and upper lids leave the eyes possibly cast down (then the iris model decides)."""
    return brows > LOWERED_BROWS and mesh_upper > MESH_OPEN_UPPER_LID


class EyeLids:
    """The iris-landmark model, for how low the eyelids sit in each eye."""

    def __init__(self):
        self._model = LandmarkModel(MODEL_FILE)

    def cast_down(self, picture: np.ndarray, crop_map: np.ndarray, points: np.ndarray) -> bool:
        """Whether the eyes of a face look down at a desk (EyeReading.cast_down), running the iris model only where
        the mesh's brows and lids leave it possible. Arguments as for `read`."""
        points = np.asarray(points, np.float64)
        brows, mesh_upper = brow_height(points), mesh_upper_lid(points)
        if not may_be_cast_down(brows, mesh_upper):
            return False
        return EyeReading(*self._lids(picture, crop_map, points), brows, mesh_upper).cast_down

    def read(self, picture: np.ndarray, crop_map: np.ndarray, points: np.ndarray) -> EyeReading:
        """The eyes of a face in an RGB uint8 `picture`, from its face-mesh `points` (468 x, y, z in the mesh
        crop's pixels) and `crop_map`, the mesh crop's affine map to the picture (facemesh.crop_to_picture); the
        eyelids of the eye the picture shows wider (the nearer one), the brows and the mesh's lids of both."""
        points = np.asarray(points, np.float64)
        return EyeReading(*self._lids(picture, crop_map, points), brow_height(points), mesh_upper_lid(points))

    def _lids(self, picture: np.ndarray, crop_map: np.ndarray, points: np.ndarray) -> tuple[float, float]:
        """(upper, lower) as EyeReading has them, from the iris model on the eye the picture shows wider."""
        corners = points[:, :2] @ crop_map[:, :2].T + crop_map[:, 2]
        a, b, mirrored = max(EYES, key=lambda eye: np.linalg.norm(corners[eye[1]] - corners[eye[0]]))
        contour = self._contour(picture, eye_crop(corners[a], corners[b]), mirrored)
        width = np.linalg.norm(contour[8] - contour[0])
        middle = (contour[0, 1] + contour[8, 1]) / 2
        return float((contour[9:16, 1].mean() - middle) / width), float((contour[1:8, 1].mean() - middle) / width)

    def _contour(self, picture: np.ndarray, crop_map: np.ndarray, mirrored: bool) -> np.ndarray:
        """The 71 eye-contour points (x, y) in the crop's pixels (mirrored back)."""
        crop = affine_crop(picture, crop_map, SIZE)
        if mirrored:
            crop = np.ascontiguousarray(crop[:, ::-1])
        [contour] = self._model.run(crop, 71 * 3)
        contour = contour.reshape(71, 3)[:, :2]
        if mirrored:
            contour = np.column_stack([SIZE - contour[:, 0], contour[:, 1]])
        return contour


def brow_height(points: np.ndarray) -> float:
    """How high the brows' lower edge sits above the line between each eye's corners, in eye widths, both eyes'
    mean, from the face mesh's points (the mesh crop has the eye line level)."""
    return -_below_corners(points, BROWS)


def mesh_upper_lid(points: np.ndarray) -> float:
    """How far below the line between each eye's corners the mesh puts the upper lid, in eye widths, both eyes'
    mean (negative: above it)."""
    return _below_corners(points, MESH_UPPER_LIDS)


def _below_corners(points: np.ndarray, features: tuple[tuple[int, ...], tuple[int, ...]]) -> float:
    """The mean height below each eye's corner line of the mesh points `features` (one tuple per eye, as EYES),
    in that eye's widths, both eyes' mean."""
    p = np.asarray(points, np.float64)
    heights = []
    for (a, b, _), feature in zip(EYES, features):
        width = np.linalg.norm(p[b, :2] - p[a, :2])
        heights.append((p[list(feature), 1].mean() - (p[a, 1] + p[b, 1]) / 2) / width)
    return float(np.mean(heights))


def eye_crop(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The affine map (2x3) from the model's input crop to the picture: centred between the two corners,
    EYE_SCALE eye widths square, its x axis from `first` to `second`."""
    across = second - first
    return square_crop((first + second) / 2, EYE_SCALE * np.linalg.norm(across), math.atan2(across[1], across[0]),
                       SIZE)
