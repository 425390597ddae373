"""The repository and FER2013, read through FER2013_PATH (CI points it at ../shared/data/fer2013.npz)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from ferbot.emotions import CLASS_NAMES
from tests.helpers.requires import unavailable

REPO = Path(__file__).resolve().parents[2]
# FER2013 holds a few pictures that are not faces; PrivateTest #1 is a page of text.
PRIVATE_TEST_NOT_FACES = (1,)


def fer2013_path() -> Path:
    """FER2013's path from FER2013_PATH (default ../shared/data/fer2013.npz). The test is skipped when the variable
    is unset and the default is absent (it fails under CI: tests.helpers.requires), and fails when the variable
    names a missing file (a typo would otherwise skip half the suite and pass). pytest is imported here, not at the
    top: the benchmarks import this module after a plain `pip install -e .`, which has no pytest."""
    import pytest

    named = os.environ.get("FER2013_PATH")
    path = Path(named or REPO.parent / "shared/data/fer2013.npz")
    if not path.exists():
        if named:
            pytest.fail(f"FER2013_PATH={named}: no such file; point it at fer2013.npz or fer2013.csv")
        unavailable(f"FER2013 not found at {path}: set FER2013_PATH to fer2013.npz or fer2013.csv")
    return path


def fer2013_private_test(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n FER2013 PrivateTest faces (uint8 (n, 48, 48)) and labels, pictures that are not faces skipped."""
    from train.data import load_fer2013

    test = load_fer2013(fer2013_path()).test
    keep = np.setdiff1d(np.arange(n + len(PRIVATE_TEST_NOT_FACES)), PRIVATE_TEST_NOT_FACES)
    return test.images[keep], test.labels[keep]


def read_video(path: Path) -> tuple[list[np.ndarray], float]:
    """Every frame of a video file as RGB, and its frame rate."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return frames, fps


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float) -> Path:
    """Write RGB frames (at least one, all of the first one's size) to an MJPG video at `fps`; returns the path."""
    frames = iter(frames)
    first = next(frames)
    height, width = first.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for frame in itertools.chain([first], frames):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def save_rgb(path: Path, image: np.ndarray) -> Path:
    """Write an RGB image to `path` (format from its suffix); returns the path."""
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return path


def save_image_folders(root: Path, items: Iterable[tuple[str, str, np.ndarray, int]]) -> Path:
    """Write FER2013 faces in the image-folder release's layout, root/<split>/<class>/<file>: `items` are (split
    folder, file name, image, label). Returns root."""
    for split, name, image, label in items:
        folder = root / split / CLASS_NAMES[label].lower()
        folder.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(folder / name), image)
    return root


def first_faces_in_folders(fer2013, n: int) -> list[tuple[str, str, np.ndarray, int]]:
    """save_image_folders' items for the first n faces of Training and of PrivateTest, in folders train and test,
    their files named 0.png, 1.png, ... (no split in the name, as in some releases)."""
    return [(folder, f"{i}.png", split.images[i], split.labels[i])
            for folder, split in (("train", fer2013.train), ("test", fer2013.test)) for i in range(n)]


def save_kaggle_csv(path: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]], line_end: str = "\n") -> Path:
    """Write FER2013 rows as Kaggle's fer2013.csv (emotion,pixels,Usage): `splits` maps each Usage (Training,
    PublicTest, PrivateTest) to its images and labels, written in that order. `line_end` "\\r\\n" is how Python's
    csv.writer ends rows. Returns the path."""
    lines = ["emotion,pixels,Usage"]
    for usage, (images, labels) in splits.items():
        lines += [f"{label},{' '.join(map(str, image.ravel()))},{usage}" for image, label in zip(images, labels)]
    Path(path).write_text(line_end.join(lines) + line_end, newline="")
    return path
