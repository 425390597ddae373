"""Shared helpers for the bot's tests: real faces (FER2013, photographs), a real X screen under Xvfb."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferbot.geometry import Rect

REPO = Path(__file__).resolve().parents[1]
FACES_DIR = REPO.parent / "shared" / "faces"
SCREEN_SIZE = (1920, 1080)

# Hand-drawn face boxes (brows to chin, cheek to cheek) in the photographs of ../shared/faces, as fractions
# (x, y, w, h) of each photo's width and height.
PHOTO_FACES: dict[str, list[tuple[float, float, float, float]]] = {
    "skimage_astronaut.png": [(0.35, 0.09, 0.19, 0.20)],
    "mpl_grace_hopper.jpg": [(0.34, 0.25, 0.33, 0.29)],
    "codait_bryan.png": [(0.29, 0.20, 0.33, 0.46)],
    "codait_luciano.png": [(0.33, 0.15, 0.36, 0.40)],
    "singnet_model_face.jpg": [(0.19, 0.10, 0.45, 0.43)],
    "singnet_woman_portrait.jpg": [(0.15, 0.17, 0.64, 0.58)],
    "pexels_maxemo_angry.jpg": [(0.17, 0.19, 0.66, 0.55)],
    "pexels_maxemo_neutral.jpeg": [(0.28, 0.31, 0.45, 0.42)],
    "pexels_maxemo_surprised.jpeg": [(0.52, 0.40, 0.26, 0.38)],
    "pexels_maxemo_happy-baby.jpeg": [(0.38, 0.16, 0.24, 0.35)],
    "pexels_maxemo_sad-baby.jpeg": [(0.26, 0.05, 0.70, 0.93)],
    "singnet_laos.jpg": [(0.09, 0.38, 0.22, 0.37), (0.55, 0.26, 0.25, 0.45)],
}


def photo(name: str) -> np.ndarray:
    """An RGB photograph from ../shared/faces (the test is skipped when the folder is absent)."""
    path = FACES_DIR / name
    if not path.exists():
        pytest.skip(f"face photographs not found at {FACES_DIR} (expected {name}); they live in ../shared/faces")
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def photo_faces(name: str, picture: np.ndarray) -> list[Rect]:
    """The hand-drawn face boxes of a photograph, in its pixels."""
    height, width = picture.shape[:2]
    return [Rect(x * width, y * height, w * width, h * height) for x, y, w, h in PHOTO_FACES[name]]


# FER2013 holds a few pictures that are not faces; PrivateTest #1 is a page of text.
PRIVATE_TEST_NOT_FACES = (1,)


def fer2013_private_test(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first n FER2013 PrivateTest faces (uint8 (n, 48, 48)) and labels, read through FER2013_PATH."""
    path = os.environ.get("FER2013_PATH")
    if not path or not Path(path).exists():
        pytest.skip(f"FER2013 not available: set FER2013_PATH to fer2013.npz or fer2013.csv (now {path!r})")
    from train.data import load_fer2013

    test = load_fer2013(path).test
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


def matches(found: Rect, truth: Rect, min_iou: float = 0.25) -> bool:
    """A detection matches a true face when its centre lies inside it and they overlap."""
    return truth.contains_point(*found.center) and found.iou(truth) >= min_iou


@contextmanager
def xvfb(size: tuple[int, int] = SCREEN_SIZE) -> Iterator[str]:
    """A real X server (Xvfb) on a free display; yields the DISPLAY value, e.g. ':42'."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt install xvfb); .ci/run installs it")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{size[0]}x{size[1]}x24",
                               "-nolisten", "tcp", "-noreset"], pass_fds=(write_fd,),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            pytest.fail("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def set_resolution(display: str, size: tuple[int, int]) -> None:
    """Change a running Xvfb's screen to size=(width, height), no larger than it started with, as a user
    changing resolution would (RandR, through xrandr)."""
    if shutil.which("xrandr") is None:
        pytest.skip("xrandr is not installed (apt install x11-xserver-utils); .ci/run installs it")
    mode = f"{size[0]}x{size[1]}"
    env = {**os.environ, "DISPLAY": display}
    xrandr = ["xrandr", "--output", "screen", "--mode", mode]
    if subprocess.run(xrandr, env=env, capture_output=True).returncode:  # a mode Xvfb does not have yet
        timings = [str(v) for v in (0, size[0], size[0], size[0], size[0], size[1], size[1], size[1], size[1])]
        for command in (["xrandr", "--newmode", mode, *timings], ["xrandr", "--addmode", "screen", mode], xrandr):
            subprocess.run(command, env=env, check=True, capture_output=True)


@contextmanager
def shown_on_screen(display: str, image: np.ndarray, folder: Path) -> Iterator[None]:
    """Show an RGB image at the top-left of the X screen with a real X client (a Tk window), until exit."""
    pytest.importorskip("tkinter", reason="the test screen's image viewer needs tkinter (apt install python3-tk)")
    path = folder / "shown.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    env = {**os.environ, "DISPLAY": display}
    viewer = subprocess.Popen([sys.executable, str(Path(__file__).with_name("bot_image_viewer.py")), str(path)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_until_shown(display, image, viewer)
        yield
    finally:
        viewer.terminate()
        viewer.wait(timeout=10)


def qt_on(display: str) -> dict[str, str]:
    """Environment for an OpenCV (Qt) window on an X display, without MIT-SHM (which on Xvfb leaves windows
    black more often)."""
    return {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "QT_X11_NO_MITSHM": "1"}


def grab_screen(display: str) -> np.ndarray:
    """The whole X screen as RGB, through mss like the bot."""
    import mss

    with mss.MSS(display=display) as screen:
        return cv2.cvtColor(np.asarray(screen.grab(screen.monitors[1])), cv2.COLOR_BGRA2RGB)


def _wait_until_shown(display: str, image: np.ndarray, viewer: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    height, width = image.shape[:2]
    difference = None
    while time.monotonic() < deadline:
        if viewer.poll() is not None:
            pytest.fail(f"the image viewer exited: {viewer.stderr.read().decode()[-500:]}")
        screen = grab_screen(display)[:height, :width]
        difference = np.abs(screen.astype(np.int16) - image).mean()
        if difference < 2:
            return
        time.sleep(0.2)
    pytest.fail(f"the image did not appear on the X screen (mean difference {difference})")
