"""Head poses on real faces, shared by test_attention.py and test_attention_mesh.py: FER2013 PrivateTest faces
labelled by eye (looking at each picture, not by the estimator), shown as the bot would see them, and real
photographs made into webcam pictures (tests/helpers/webcam.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ferbot.detect import FaceFinder
from ferbot.detect.blazeface import BlazeFace, Detection
from ferbot.detect.facemesh import FaceMesh
from ferbot.detect.headpose import HeadPose
from tests.helpers.faces import photo, photo_faces
from tests.helpers.webcam import View, degrade, webcam_view

if TYPE_CHECKING:
    from benchmarks.attention import Wear

# PrivateTest indices (rows of the official split, in file order).
FACING = (2000, 2001, 2004, 2007, 2008, 2010, 2012, 2013, 2015, 2017, 2018, 2019, 2023, 2026, 2027, 2028, 2031,
          2032, 2033, 2035, 2037, 2038, 207, 168, 979, 988, 744, 388)
TURNED_TO_VIEWERS_RIGHT = (886, 1152, 2025, 795, 72)  # both eyes still visible: the sign must be right
TURNED_TO_VIEWERS_LEFT = (1361, 557, 1052, 19)
PROFILES = (962, 213, 446, 1177)  # turned so far that the far eye is hidden: only "not facing" is asked
LOOKING_UP = (1312, 37, 351)

# The repository's photographs of one person looking at the camera (its hand-drawn face boxes).
LOOKING_AT_CAMERA = ("skimage_astronaut.jpg", "mpl_grace_hopper.jpg", "codait_bryan.png", "codait_luciano.jpg",
                     "singnet_model_face.jpg")


def fer_picture(face: np.ndarray, roll: float = 0.0, mirror: bool = False) -> np.ndarray:
    """A FER2013 face shown at 144 px on a grey 256 px RGB picture, optionally mirrored or rotated in the picture
    plane by `roll` degrees."""
    canvas = np.full((256, 256), 128, np.uint8)
    canvas[56:200, 56:200] = cv2.resize(face, (144, 144), interpolation=cv2.INTER_CUBIC)
    if mirror:
        canvas = np.ascontiguousarray(canvas[:, ::-1])
    if roll:
        canvas = cv2.warpAffine(canvas, cv2.getRotationMatrix2D((128, 128), roll, 1.0), (256, 256), borderValue=128)
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2RGB)


def fer_seen(detector: BlazeFace, mesh: FaceMesh, face: np.ndarray, **how) -> tuple[Detection, HeadPose]:
    """A FER2013 face as the bot sees it in fer_picture(face, **how): the one detection of it, and FaceMesh.pose
    of it."""
    picture = fer_picture(face, **how)
    (found,) = detector.detect(picture)
    return found, mesh.pose(picture, found)


def webcam_faces(wear: Wear | None = None) -> Iterator[tuple[float, np.ndarray, Detection | None]]:
    """The photographs of LOOKING_AT_CAMERA as webcam pictures: the camera 20 degrees below or above the eyes or
    level, the face centred or off-centre, wearing `wear` if given (benchmarks.attention.WEARS), soft, dim, noisy
    and compressed. (nod, picture, the face found in it or None) for each."""
    rng = np.random.default_rng(17)
    with FaceFinder() as finder:
        for name in LOOKING_AT_CAMERA:
            picture = photo(name)
            (face,) = photo_faces(name, picture)
            for nod in (-20.0, 0.0, 20.0):
                for offset in ((0.0, 0.0), (-0.55, 0.2), (0.55, -0.2)):
                    view, box = webcam_view(picture, face, View(pitch=nod, offset=offset,
                                                                height=rng.uniform(0.15, 0.45)))
                    worn = wear is None or wear(view, box, finder)
                    view = degrade(view, rng)  # also where nothing could be worn: the other views stay the same
                    if worn:
                        found = [d for d in finder.find(view) if box.contains_point(*d.box.center)]
                        yield nod, view, found[0] if found else None


def assert_pitch_follows_the_nod(pitches: dict[float, list[float]]) -> None:
    """The median pitch read on webcam_faces() per nod: 20 degrees below the eyes reads more than 5 degrees further
    up than level, and 20 above more than 5 further down again."""
    up, level, down = (np.median(pitches[nod]) for nod in (-20.0, 0.0, 20.0))
    assert up < level - 5 < down - 10, pitches
