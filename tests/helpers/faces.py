"""Real photographs of faces, shipped in tests/data/faces (public domain and CC0 only; see ATTRIBUTION.md there),
with hand-drawn boxes around each face."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferbot.geometry import Rect

FACES_DIR = Path(__file__).resolve().parents[1] / "data" / "faces"

# Hand-drawn face boxes (brows to chin, cheek to cheek) as fractions (x, y, w, h) of each photo's width and height.
PHOTO_FACES: dict[str, list[tuple[float, float, float, float]]] = {
    "skimage_astronaut.jpg": [(0.35, 0.09, 0.19, 0.20)],
    "mpl_grace_hopper.jpg": [(0.34, 0.25, 0.33, 0.29)],
    "codait_bryan.png": [(0.29, 0.20, 0.33, 0.46)],
    "codait_luciano.jpg": [(0.33, 0.15, 0.36, 0.40)],
    "singnet_model_face.jpg": [(0.19, 0.10, 0.45, 0.43)],
    "singnet_woman_portrait.jpg": [(0.15, 0.17, 0.64, 0.58)],
}
# A classroom with about twenty small faces, and no gallery gutters.
CLASSROOM = "singnet_classroom_in_tanzania.jpg"


def photo(name: str) -> np.ndarray:
    """An RGB photograph from tests/data/faces."""
    image = cv2.imread(str(FACES_DIR / name))
    assert image is not None, f"{FACES_DIR / name} is missing from the repository"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def photo_faces(name: str, picture: np.ndarray) -> list[Rect]:
    """The hand-drawn face boxes of a photograph, in its pixels."""
    height, width = picture.shape[:2]
    return [Rect(x * width, y * height, w * width, h * height) for x, y, w, h in PHOTO_FACES[name]]


def side_by_side(names: tuple[str, ...], height: int = 480) -> tuple[np.ndarray, list[Rect]]:
    """One picture of several people: the photographs scaled to `height` and put next to each other with no
    gap, and each face's box in it."""
    pictures, boxes, x = [], [], 0.0
    for name in names:
        picture = photo(name)
        scale = height / picture.shape[0]
        pictures.append(cv2.resize(picture, (round(picture.shape[1] * scale), height), interpolation=cv2.INTER_AREA))
        boxes += [Rect(x + b.x * scale, b.y * scale, b.w * scale, b.h * scale) for b in photo_faces(name, picture)]
        x += pictures[-1].shape[1]
    return np.hstack(pictures), boxes


def matches(found: Rect, truth: Rect, min_iou: float = 0.25) -> bool:
    """A detection matches a true face when its centre lies inside it and they overlap."""
    return truth.contains_point(*found.center) and found.iou(truth) >= min_iou


def the_face(found: list, truth: Rect):
    """Of the detections `found`, the one of the face at `truth` (its centre inside, the best overlap); None."""
    inside = [d for d in found if truth.contains_point(*d.box.center)]
    return max(inside, key=lambda d: d.box.iou(truth)) if inside else None


def one_hot(emotion: str) -> np.ndarray:
    """The class probabilities (float32) of a face certain to show `emotion`."""
    from ferbot.emotions import CLASS_NAMES

    return np.eye(len(CLASS_NAMES), dtype=np.float32)[CLASS_NAMES.index(emotion)]


def detection(box: tuple[float, float, float, float], score: float = 0.9):
    """A Detection at `box` (x, y, w, h) with `score` and all six keypoints at (0, 0), for tracking tests."""
    from ferbot.detect import Detection

    return Detection(Rect(*box), score, np.zeros((6, 2), np.float32))


def detections(*boxes: tuple[float, float, float, float]) -> list:
    """A detection (score 0.9) at each of `boxes`."""
    return [detection(box) for box in boxes]


def tracked_face(box: tuple[float, float, float, float], emotion: str = "Happy", track_id: int = 1, missed: int = 0,
                 confidence: float = 1.0, attention: float = 1.0):
    """A TrackedFace showing `emotion` with `confidence` at `box` (x, y, w, h), for drawing tests."""
    from ferbot.detect.headpose import HeadPose
    from ferbot.emotions import CLASS_NAMES
    from ferbot.track import TrackedFace

    probabilities = one_hot(emotion) * confidence
    probabilities += (1 - confidence) / len(CLASS_NAMES)
    return TrackedFace(track_id, Rect(*box), np.zeros((6, 2), np.float32), 0.9, probabilities, 0.0,
                       HeadPose(0.0, 0.0), attention, missed)


def people():
    """Every photograph here with its face boxes, as meeting participants (tests.helpers.meetings.Person)."""
    from tests.helpers.meetings import Person

    return [Person(picture, tuple(photo_faces(name, picture))) for name in PHOTO_FACES
            for picture in [photo(name)]]
