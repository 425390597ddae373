"""Webcam-like views of a real photograph, for the tests and benchmarks that need a face as a webcam shows it (the
attention test and benchmark, the meeting screens of tests/helpers/meetings.py, benchmarks/calm_faces.py): the head
nodded or turned a little (the camera above, below or beside the screen), the face off the centre of a wide-angle
16:9 picture, degraded like video.

How each change is made, and what it cannot do:

- Nod and turn (`pitch`, `yaw`): the pixels of the head are moved as if they lay on a generic head shape turned by
  that angle: a paraboloid as wide as 1.1 face boxes and 1.5 tall, 0.5 face boxes deep at its apex, with a nose
  ridge 0.13 face boxes high on it, seen from far away (orthographic). Parts of the face in front move further than
  parts behind, so the nose tip shifts against the eyes and the ears as on a real nodding head. Limits: the shape is
  generic, not the person's; nothing hidden in the photograph appears (under the chin, the far cheek) and nothing
  gets hidden; hair, ears and shoulders move with the nearest part of the shape; angles much over 25 degrees tear
  the picture, so only small nods and turns are made this way.
- Off-centre (`offset`): the camera is turned about its own centre, which for a pinhole camera is exactly a
  homography of the picture; the face then lies off the image centre at the angle a lens with a 70-degree
  horizontal field of view gives, and is stretched as a wide-angle lens stretches it. A face made this way still
  looks straight at the lens. Turning the head by the same angle as well (yaw = the lens angle) makes it face along
  the camera's axis instead, as a student does who looks straight ahead at a screen beside which the camera sits.
  The photograph's own lens is ignored.
- Masks and glasses (`draw_mask`, `draw_glasses`): flat shapes drawn over the view, a mask over the face box from
  just under the eyes to the chin, dark rims around given eye positions; they do not follow a nod or a turn.
- Video (`degrade`): shrunk by 1.5-3x and enlarged back (a soft, low-resolution camera), darkened to 45-80% with a
  gamma (dim room), Gaussian noise of 2-6 grey levels, then JPEG at quality 30-70 (streaming compression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.geometry import Rect

TILE = (640, 360)  # a 16:9 webcam picture as a gallery tile shows it
HORIZONTAL_FOV = 70.0  # degrees, a typical laptop webcam


@dataclass(frozen=True)
class View:
    """One webcam view: the head turned by yaw (degrees, positive towards the viewer's right) and nodded by pitch
    (positive down); the face's centre at offset (fractions of the tile's half width and half height from its
    centre, positive right and down); the face box `height` of the tile's height."""

    pitch: float = 0.0
    yaw: float = 0.0
    offset: tuple[float, float] = (0.0, 0.0)
    height: float = 0.3

    def lens_angles(self) -> tuple[float, float]:
        """Degrees off the optical axis at which the camera sees the face's centre (horizontal, vertical)."""
        focal = TILE[0] / 2 / math.tan(math.radians(HORIZONTAL_FOV / 2))
        return (math.degrees(math.atan(self.offset[0] * TILE[0] / 2 / focal)),
                math.degrees(math.atan(self.offset[1] * TILE[1] / 2 / focal)))


def framed_at_random(view: View, rng: np.random.Generator) -> View:
    """`view` with the face's centre up to 30% of the way to the top or bottom edge and the face 15-45% of the
    picture's height, drawn from `rng`; a face that looks along the camera's axis (yaw) is nodded by the vertical
    lens angle as well."""
    vertical = rng.uniform(-0.3, 0.3)
    nod = View(offset=(0.0, vertical)).lens_angles()[1] if view.yaw else 0.0
    return View(view.pitch + nod, view.yaw, (view.offset[0], vertical), rng.uniform(0.15, 0.45))


def head_crop(photo: np.ndarray, face: Rect, side_faces: float = 4.0, max_side: int = 480) -> tuple[np.ndarray, Rect]:
    """A square picture `side_faces` face boxes wide around the face (the photograph's edge pixels repeated where
    it ends), at most max_side pixels, and the face box in it."""
    side = side_faces * max(face.w, face.h)
    cx, cy = face.center
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    size = round(side)
    h, w = photo.shape[:2]
    pad = [max(0, -y0), max(0, y0 + size - h), max(0, -x0), max(0, x0 + size - w)]
    padded = np.pad(photo, ((pad[0], pad[1]), (pad[2], pad[3]), (0, 0)), mode="edge")
    crop = padded[y0 + pad[0]:y0 + pad[0] + size, x0 + pad[2]:x0 + pad[2] + size]
    scale = min(1.0, max_side / size)
    if scale < 1:
        crop = cv2.resize(crop, (round(size * scale),) * 2, interpolation=cv2.INTER_AREA)
    box = Rect((face.x - x0) * scale, (face.y - y0) * scale, face.w * scale, face.h * scale)
    return crop, box


def turn_head(picture: np.ndarray, face: Rect, pitch: float, yaw: float) -> np.ndarray:
    """The picture with the head nodded by `pitch` and turned by `yaw` degrees on a generic head shape (module
    docstring): a nod, then a turn, each as a one-dimensional resampling."""
    height, width = picture.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = face.center
    size = max(face.w, face.h)
    u, v = (xs - cx) / (0.55 * size), (ys - (cy - 0.05 * size)) / (0.75 * size)
    depth = 0.5 * size * np.clip(1 - u * u - v * v, 0, None)
    ridge = ((xs - cx) / (0.07 * size)) ** 2 + ((ys - cy + 0.03 * size) / (0.16 * size)) ** 2
    depth += 0.13 * size * np.exp(-0.5 * ridge)
    out = picture
    if pitch:
        a = math.radians(pitch)
        moved = cy + (ys - cy) * math.cos(a) + depth * math.sin(a)  # where each source row lands
        out = _resample(out, moved, axis=0)
        depth = _resample(depth[..., None], moved, axis=0)[..., 0]
    if yaw:
        a = math.radians(yaw)
        moved = cx + (xs - cx) * math.cos(a) + depth * math.sin(a)
        out = _resample(out, moved, axis=1)
    return out


def _resample(picture: np.ndarray, moved: np.ndarray, axis: int) -> np.ndarray:
    """Move each pixel along `axis` to `moved` (same shape as the picture's first two axes; increasing along the
    axis except where a fold hides what lies behind) by inverting the map line by line."""
    if axis == 1:
        return np.swapaxes(_resample(np.swapaxes(picture, 0, 1), moved.T, axis=0), 0, 1)
    height, width = moved.shape
    source_rows = np.empty((height, width), np.float32)
    rows = np.arange(height, dtype=np.float32)
    for x in range(width):
        landed = np.maximum.accumulate(moved[:, x])  # a fold keeps the front surface
        source_rows[:, x] = np.interp(rows, landed, rows)
    cols = np.broadcast_to(np.arange(width, dtype=np.float32), (height, width))
    return cv2.remap(np.ascontiguousarray(picture), np.ascontiguousarray(cols), source_rows, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT)


def webcam_view(photo: np.ndarray, face: Rect, view: View) -> tuple[np.ndarray, Rect]:
    """A 16:9 webcam picture (TILE) of the face in `photo` seen as `view` says, before any degradation, and the
    face's box in it (the original box, nodded and moved, approximately)."""
    crop, box = head_crop(photo, face)
    if view.pitch or view.yaw:
        crop = turn_head(crop, box, view.pitch, view.yaw)
    width, height = TILE
    scale = view.height * height / box.h
    crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)),) * 2,
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    box = box.scaled(scale)
    focal = width / 2 / math.tan(math.radians(HORIZONTAL_FOV / 2))
    # the head-on picture: the crop with the face centre on the optical axis, at the same focal length
    fx, fy = box.center
    source = np.array([[focal, 0, fx], [0, focal, fy], [0, 0, 1]])
    target = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
    ray = np.array([view.offset[0] * width / 2 / focal, view.offset[1] * height / 2 / focal, 1.0])
    rotation = _rotation_between(np.array([0.0, 0.0, 1.0]), ray / np.linalg.norm(ray))
    homography = target @ rotation @ np.linalg.inv(source)
    tile = cv2.warpPerspective(crop, homography, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)
    corners = np.array([[box.x, box.y], [box.x2, box.y], [box.x, box.y2], [box.x2, box.y2]], np.float64)
    mapped = cv2.perspectiveTransform(corners[None], homography)[0]
    (x0, y0), (x1, y1) = mapped.min(axis=0), mapped.max(axis=0)
    return tile, Rect(x0, y0, x1 - x0, y1 - y0)


def _rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The rotation matrix that turns unit vector a onto unit vector b (about their common normal)."""
    axis = np.cross(a, b)
    sin, cos = np.linalg.norm(axis), float(a @ b)
    if sin < 1e-12:
        return np.eye(3)
    k = axis / sin
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + sin * cross + (1 - cos) * cross @ cross


def degrade(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A webcam picture as a video call delivers it (module docstring); the draws come from rng."""
    height, width = picture.shape[:2]
    shrink = rng.uniform(1.5, 3.0)
    small = cv2.resize(picture, (round(width / shrink), round(height / shrink)), interpolation=cv2.INTER_AREA)
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    out = rng.uniform(0.45, 0.8) * out ** rng.uniform(1.0, 1.4)
    out = out * 255 + rng.normal(0, rng.uniform(2, 6), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    quality = int(rng.integers(30, 71))
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(out, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


MASK_COLOURS = {"light-blue": (170, 205, 235), "white": (235, 235, 235), "black": (40, 40, 50)}  # RGB


def draw_mask(view: np.ndarray, face: Rect, colour: tuple[int, int, int] = MASK_COLOURS["light-blue"]) -> None:
    """A surgical or cloth mask from just under the eyes to the chin of the face at `face`, drawn in place."""
    x, y, w, h = face
    points = np.array([[x + 0.05 * w, y + 0.55 * h], [x + 0.5 * w, y + 0.47 * h], [x + 0.95 * w, y + 0.55 * h],
                       [x + 0.85 * w, y + 0.92 * h], [x + 0.5 * w, y + 1.02 * h], [x + 0.15 * w, y + 0.92 * h]])
    cv2.fillPoly(view, [points.astype(np.int32)], colour, cv2.LINE_AA)


def draw_glasses(view: np.ndarray, eyes: np.ndarray, half_size: tuple[float, float], thickness: int) -> None:
    """Dark-rimmed glasses drawn in place: a lens rim of `half_size` (half width, half height, pixels) centred on
    each of `eyes` (2, 2: x, y), and a bridge between the rims' inner edges."""
    (left_x, left_y), (right_x, right_y) = sorted(np.asarray(eyes, np.float64).tolist())
    half_w, half_h = half_size
    for x, y in ((left_x, left_y), (right_x, right_y)):
        cv2.ellipse(view, (round(x), round(y)), (round(half_w), round(half_h)), 0, 0, 360, (25, 25, 25), thickness,
                    cv2.LINE_AA)
    bridge_y = round((left_y + right_y) / 2)
    cv2.line(view, (round(left_x + half_w), bridge_y), (round(right_x - half_w), bridge_y), (25, 25, 25), thickness,
             cv2.LINE_AA)
