"""Realistic meeting screens for tests and benchmarks: Zoom-, Meet- and Teams-like galleries of webcam tiles.

Each webcam tile is a real photograph framed as a webcam sees a student: the face 15-45% of the tile's height,
off-centre, on a room background, sometimes a phone video pillarboxed in the tile, then degraded like a video call
(downscale-upscale blur, JPEG at quality 30-70, dim light, noise). Around the tiles: the app's background and gutters,
rounded corners (Meet, Teams), name tags, an active-speaker border in the app's colour, emoji reactions, camera-off
tiles (a name or a profile picture), a title bar, a toolbar and page arrows; or a shared screen beside a strip of tiles;
or a speaker view (one large tile under a strip of small ones). Every screen comes with the true face boxes, and with
the regions a detection may land in without counting as a false box (profile pictures, faces under 24 px or cut by their
tile).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ferbot.capture.gallery import grid_tiles
from ferbot.geometry import Rect, iou_matrix
from tests.helpers.nametags import CHINESE, CUT, JAPANESE, LATIN, draw_tag
from tests.helpers.webcam import MASK_COLOURS, draw_glasses, draw_mask

MIN_FACE_PX = 24  # faces smaller than this on screen are neither required nor counted against a detector
FACE_SHARE = (0.15, 0.45)  # a webcam face's height, as a share of its picture's: from far back to close up
STYLES = ("zoom", "meet", "teams")
NAMES = ("Ana García", "Ben Okafor", "Chen Wei", "Dana Levi", "Eli Novak", "Fatima Zahra", "Gus Berg",
         "Hana Sato", "Ivan Petrov", "Jo Kim", "Kofi Mensah", "Lea Roux", "Marta Silva", "Noah Brown",
         "Olu Ade", "Priya Nair", "Quinn Lee", "Rosa Diaz", "Sami Aalto", "Tomás Ruiz")


@dataclass(frozen=True)
class Person:
    """A photograph (RGB) and the boxes of the faces in it, in its pixels."""

    picture: np.ndarray
    faces: tuple[Rect, ...]


@dataclass(frozen=True)
class Look:
    """An app's colours and shapes."""

    background: tuple[int, int, int]
    gutter: int  # px at 1080p
    radius: int  # tile corner radius at 1080p
    speaker: tuple[tuple[int, int, int], ...]  # active-speaker border colours
    camera_off: tuple[int, int, int]
    tag_box: bool  # name tag on a dark box (Zoom, Teams) or bare text (Meet)
    toolbar: tuple[int, int, int]
    toolbar_at_top: bool


LOOKS = {
    "zoom": Look((13, 13, 13), 6, 0, ((35, 217, 89), (250, 205, 40)), (34, 34, 34), True, (26, 26, 26), False),
    "meet": Look((32, 33, 36), 10, 12, ((138, 180, 248),), (60, 64, 67), False, (32, 33, 36), False),
    "teams": Look((31, 31, 31), 8, 6, ((127, 133, 245), (98, 100, 167)), (41, 41, 41), True, (41, 41, 41), True),
}


@dataclass
class MeetingScreen:
    """A composed screen: the image, the true faces (webcams, >= MIN_FACE_PX), and the ignorable regions."""

    image: np.ndarray
    style: str
    faces: list[Rect] = field(default_factory=list)
    masked: list[bool] = field(default_factory=list)  # per face: wearing a mask
    ignore: list[Rect] = field(default_factory=list)  # profile pictures, small or cut faces
    pictures: list[Rect] = field(default_factory=list)  # profile pictures on camera-off tiles
    tiles: list[Rect] = field(default_factory=list)
    cameras_off: list[Rect] = field(default_factory=list)  # tiles with the camera off (a name or a profile picture)


def meeting_screen(people: Sequence[Person], style: str, size: tuple[int, int], count: int, seed: int,
                   layout: str = "gallery", names: Sequence[str] | None = None,
                   face_share: tuple[float, float] = FACE_SHARE) -> MeetingScreen:
    """A `style` meeting screen of size (width, height) with `count` participant tiles in a `layout` of LAYOUTS (a
    gallery; a strip beside a shared screen; a speaker view; Meet's auto layout of unequal tiles; Meet's sidebar),
    drawn reproducibly from `seed`; `names[i]`, when given, is tile i's name tag, drawn with real fonts
    (tests.helpers.nametags) instead of OpenCV's ASCII letters; each webcam's face a share of its picture's height
    drawn evenly from the range `face_share`."""
    rng = np.random.default_rng(seed)
    look = LOOKS[style]
    width, height = size
    unit = height / 1080
    screen = MeetingScreen(np.full((height, width, 3), look.background, np.uint8), style)
    area = _chrome(screen.image, look, unit, rng)
    tiles = LAYOUTS[layout](area, count, round(look.gutter * unit))
    if layout == "share":
        _shared_slide(screen.image, Rect(area.x, area.y, tiles[0].x - area.x - 12 * unit, area.h), rng)
    screen.tiles = tiles
    speaker = int(rng.integers(len(tiles)))
    for i, tile in enumerate(tiles):
        kind = rng.choice(["webcam", "name", "picture"], p=[0.84, 0.08, 0.08])
        if kind == "webcam":
            _webcam_tile(screen, tile, people[int(rng.integers(len(people)))], rng, face_share)
        else:
            _camera_off_tile(screen, tile, look, kind, people[int(rng.integers(len(people)))], rng)
        round_corners(screen.image, tile, round(look.radius * unit), look.background)
        if names is None:
            _name_tag(screen.image, tile, NAMES[int(rng.integers(len(NAMES)))], look, rng)
        else:
            draw_tag(screen.image, tile, names[i], style)
        if rng.random() < 0.12:
            _emoji(screen.image, tile, rng)
        if i == speaker:
            colour = look.speaker[int(rng.integers(len(look.speaker)))]
            _border(screen.image, tile, colour, int(rng.integers(2, 7)), round(look.radius * unit))
    return screen


# Screens with the test names on their tags: (size, tiles, layout, index of the first name shown).
NAMED = (((1920, 1080), 9, "gallery", 0), ((1920, 1080), 12, "gallery", 9), ((1920, 1080), 24, "gallery", 0))
SMALL_NAMED = (((1920, 1080), 49, "gallery", 0), ((1280, 720), 25, "gallery", 5), ((1920, 1080), 6, "speaker", 10),
               ((1280, 720), 6, "speaker", 16))  # small tiles: the largest galleries, a speaker view's row


def named_screens(people: Sequence[Person], style: str,
                  screens: Sequence[tuple[tuple[int, int], int, str, int]] = NAMED
                  ) -> list[tuple[MeetingScreen, list[str]]]:
    """`style` screens whose tags show the test names (Latin with accents, Chinese, Japanese, names cut short),
    each with the names in tile order: by default three galleries of 9, 12 and 24 tiles at 1920x1080."""
    names = [*LATIN, *CHINESE, *JAPANESE, *CUT]
    style_seed = STYLES.index(style)  # each style its own names and draws
    order = np.random.default_rng(style_seed).permutation(len(names))
    drawn = []
    for seed, (size, count, layout, start) in enumerate(screens):
        shown = [names[order[(start + k) % len(names)]] for k in range(count)]
        drawn.append((meeting_screen(people, style, size, count, 100 * seed + style_seed, layout=layout, names=shown),
                      shown))
    return drawn


# --- layout -----------------------------------------------------------------------------------------------------


def _chrome(image: np.ndarray, look: Look, unit: float, rng: np.random.Generator) -> Rect:
    """A title bar, the app's toolbar and maybe page arrows; returns the area left for the tiles."""
    height, width = image.shape[:2]
    title = round(rng.choice([0, 28, 36]) * unit)
    bar = round(64 * unit)
    if title:
        image[:title] = (236, 236, 236) if rng.random() < 0.5 else (44, 44, 46)
        _text(image, "Zoom Meeting" if look.tag_box and not look.toolbar_at_top else "Class - Period 3",
              (width // 2 - round(70 * unit), round(title * 0.7)), 0.5 * unit, (120, 120, 120))
    y_bar = title if look.toolbar_at_top else height - bar
    image[y_bar:y_bar + bar] = look.toolbar
    labels = ("Mute", "Stop Video", "Participants", "Chat", "Share Screen", "Record", "Reactions")
    for k, label in enumerate(labels):
        cx = round(width * (0.2 + 0.09 * k))
        cv2.circle(image, (cx, y_bar + round(24 * unit)), round(9 * unit), (220, 220, 220), 2, cv2.LINE_AA)
        _text(image, label, (cx - round(30 * unit), y_bar + round(52 * unit)), 0.38 * unit, (220, 220, 220))
    leave = (width - round(110 * unit), y_bar + round(16 * unit))
    cv2.rectangle(image, leave, (leave[0] + round(80 * unit), leave[1] + round(32 * unit)), (210, 40, 45), -1)
    _text(image, "Leave", (leave[0] + round(16 * unit), leave[1] + round(22 * unit)), 0.5 * unit, (255, 255, 255))
    top = title + (bar if look.toolbar_at_top else 0)
    bottom = height - (0 if look.toolbar_at_top else bar)
    margin = round(rng.choice([8, 40]) * unit)  # 40: room for page arrows at the sides
    if margin > 20 * unit:
        for x, sign in ((margin // 2, -1), (width - margin // 2, 1)):
            y = (top + bottom) // 2
            points = np.array([[x - sign * 6 * unit, y - 12 * unit], [x + sign * 6 * unit, y],
                               [x - sign * 6 * unit, y + 12 * unit]], np.int32)
            cv2.polylines(image, [points], False, (200, 200, 200), max(1, round(3 * unit)), cv2.LINE_AA)
        _text(image, "1/2", (margin // 2 - round(10 * unit), top + round(20 * unit)), 0.4 * unit, (200, 200, 200))
    return Rect(margin, top + round(6 * unit), width - 2 * margin, bottom - top - round(12 * unit))


def _strip_tiles(area: Rect, count: int, gutter: int) -> list[Rect]:
    """A vertical strip of up to `count` 16:9 tiles along the right edge of `area` (a shared screen beside it)."""
    tile_w = round(area.w * 0.18)
    tile_h = round(tile_w * 9 / 16)
    x = area.x2 - tile_w
    return [Rect(int(x), y, tile_w, tile_h) for y in _centred_run(area.y, area.h, count, tile_h, gutter)]


def _speaker_tiles(area: Rect, count: int, gutter: int) -> list[Rect]:
    """Zoom's speaker view: a row of up to `count` - 1 small 16:9 tiles along the top of `area`, centred, and the
    speaker's 16:9 tile as large as fits below it, centred."""
    tile_w = round(area.w * 0.125)
    tile_h = round(tile_w * 9 / 16)
    strip = [Rect(x, int(area.y), tile_w, tile_h) for x in _centred_run(area.x, area.w, count - 1, tile_w, gutter)]
    below = area.h - tile_h - 2 * gutter
    speaker_w = min(area.w, below * 16 / 9)
    speaker = Rect(int(area.x + (area.w - speaker_w) / 2), int(area.y2 - below), int(speaker_w),
                   int(speaker_w * 9 / 16))
    return [*strip, speaker]


def _auto_tiles(area: Rect, count: int, gutter: int) -> list[Rect]:
    """Meet's auto layout: rows of tiles as wide as each participant's camera sends its picture (16:9, 4:3 or
    square), the rows of unequal heights, each row as wide as fits and centred."""
    rows = max(1, round(np.sqrt(count / 2)))
    counts = [count // rows + (r < count % rows) for r in range(rows)]
    weights = np.array([1.0 + 0.2 * (-1) ** r for r in range(rows)])  # taller and shorter rows in turn
    heights = (area.h - (rows - 1) * gutter) * weights / weights.sum()
    tiles, y, k = [], area.y, 0
    for n, row_h in zip(counts, heights):
        widths = np.array([(16 / 9, 4 / 3, 1.0)[(k + i) % 3] for i in range(n)]) * row_h
        k += n
        scale = min(1.0, (area.w - (n - 1) * gutter) / widths.sum())
        x = area.x + (area.w - scale * widths.sum() - (n - 1) * gutter) / 2
        for width in scale * widths:
            tiles.append(Rect(int(x), int(y + (1 - scale) * row_h / 2), int(width), int(scale * row_h)))
            x += width + gutter
        y += row_h + gutter
    return tiles


def _sidebar_tiles(area: Rect, count: int, gutter: int) -> list[Rect]:
    """Meet's sidebar: one large 16:9 tile, and a column of up to `count` - 1 small ones at its right, centred."""
    small_w = round(area.w * 0.2)
    small_h = round(small_w * 9 / 16)
    large_h = min(area.h, (area.w - small_w - 2 * gutter) * 9 / 16)
    large = Rect(int(area.x), int(area.y + (area.h - large_h) / 2), int(large_h * 16 / 9), int(large_h))
    column = [Rect(int(area.x2 - small_w), y, small_w, small_h)
              for y in _centred_run(area.y, area.h, count - 1, small_h, gutter)]
    return [large, *column]


def _centred_run(start: float, length: float, count: int, size: int, gutter: int) -> list[int]:
    """Where up to `count` tiles of `size`, `gutter` apart, start along a side from `start` of `length`, centred."""
    fit = min(count, int((length + gutter) // (size + gutter)))
    first = start + (length - fit * size - (fit - 1) * gutter) // 2
    return [int(first + k * (size + gutter)) for k in range(fit)]


LAYOUTS = {"gallery": grid_tiles, "share": _strip_tiles, "speaker": _speaker_tiles, "auto": _auto_tiles,
           "sidebar": _sidebar_tiles}


def as_found(tiles: Sequence[Rect], found: Sequence[Rect]) -> list[Rect | None]:
    """Each drawn tile as ferbot's finder found it (the found tile overlapping it most, at IoU 0.5 or more), else
    None."""
    if not found:
        return [None] * len(tiles)
    overlaps = iou_matrix(list(tiles), list(found))
    return [found[int(row.argmax())] if row.max() >= 0.5 else None for row in overlaps]


def on_desktop(window: MeetingScreen, desktop: np.ndarray, left: int, top: int) -> MeetingScreen:
    """A meeting window that does not fill the screen: `window` drawn on `desktop` (changed in place) with its top
    left corner at (left, top), its faces, tiles and ignorable regions moved with it."""
    height, width = window.image.shape[:2]
    desktop[top:top + height, left:left + width] = window.image

    def moved(rects: list[Rect]) -> list[Rect]:
        return [rect.shifted(left, top) for rect in rects]

    return MeetingScreen(desktop, window.style, moved(window.faces), list(window.masked), moved(window.ignore),
                         moved(window.pictures), moved(window.tiles), moved(window.cameras_off))


def _shared_slide(image: np.ndarray, where: Rect, rng: np.random.Generator) -> None:
    """A lesson slide: title, bullet points, a bar chart and a logo."""
    x, y, w, h = (int(v) for v in where)
    slide_h = min(h, round(w * 9 / 16))
    y += (h - slide_h) // 2
    image[y:y + slide_h, x:x + w] = (250, 250, 248)
    scale = slide_h / 700
    _text(image, "Photosynthesis: light and dark reactions", (x + round(40 * scale), y + round(70 * scale)),
          1.1 * scale, (20, 40, 90), 2)
    for k in range(5):
        _text(image, f"- point {k + 1}: chlorophyll absorbs red and blue light", (x + round(60 * scale),
              y + round((150 + 55 * k) * scale)), 0.7 * scale, (40, 40, 40))
    base = y + slide_h - round(60 * scale)
    for k in range(6):
        bar_h = int(rng.integers(60, 260) * scale)
        left = x + w - round((420 - 60 * k) * scale)
        cv2.rectangle(image, (left, base - bar_h), (left + round(40 * scale), base), (66, 133, 244), -1)
    cv2.circle(image, (x + w - round(60 * scale), y + round(60 * scale)), round(30 * scale), (230, 80, 40), -1)


# --- tiles ------------------------------------------------------------------------------------------------------


def _webcam_tile(screen: MeetingScreen, tile: Rect, person: Person, rng: np.random.Generator,
                 face_share: tuple[float, float]) -> None:
    """A student on webcam in the tile (maybe a phone's portrait video, pillarboxed), degraded like a call."""
    x, y, w, h = (int(v) for v in tile)
    frame = Rect(0, 0, w, h)
    if rng.random() < 0.12:  # a phone: 9:16 video in the middle of the tile
        phone_w = round(h * 9 / 16)
        frame = Rect((w - phone_w) // 2, 0, phone_w, h)
    picture = np.zeros((h, w, 3), np.uint8)
    fx, fy, fw, fh = (int(v) for v in frame)
    view, faces = _webcam_view(person, (fw, fh), rng, face_share)
    masked = rng.random() < 0.1
    if masked:
        for face in faces:
            draw_mask(view, face, tuple(int(c) for c in rng.choice(list(MASK_COLOURS.values()))))
    if rng.random() < 0.2:
        for face in faces:
            eyes = [(face.x + 0.3 * face.w, face.y + 0.36 * face.h), (face.x + 0.7 * face.w, face.y + 0.36 * face.h)]
            draw_glasses(view, eyes, (0.15 * face.w, 0.08 * face.h), max(1, round(face.w / 40)))
    picture[fy:fy + fh, fx:fx + fw] = view
    screen.image[y:y + h, x:x + w] = _degrade(picture, rng)
    for face in faces:
        on_screen = Rect(x + fx + face.x, y + fy + face.y, face.w, face.h)
        inside = on_screen.clipped(screen.image.shape[1], screen.image.shape[0])
        visible = Rect(max(inside.x, tile.x), max(inside.y, tile.y), 0, 0)
        visible = Rect(visible.x, visible.y, min(inside.x2, tile.x2) - visible.x, min(inside.y2, tile.y2) - visible.y)
        whole = visible.w > 0 and visible.h > 0 and visible.area >= 0.8 * on_screen.area
        if whole and on_screen.h >= MIN_FACE_PX:
            screen.faces.append(on_screen)
            screen.masked.append(masked)
        else:
            screen.ignore.append(on_screen)


def _webcam_view(person: Person, size: tuple[int, int], rng: np.random.Generator,
                 face_share: tuple[float, float]) -> tuple[np.ndarray, list[Rect]]:
    """A (width, height) webcam picture of the person: the face a share of its height in the range `face_share`,
    off-centre, in a room."""
    width, height = size
    view = _room(size, rng)
    picture, faces = person.picture, list(person.faces)
    if rng.random() < 0.5:
        picture = picture[:, ::-1]
        faces = [Rect(picture.shape[1] - f.x2, f.y, f.w, f.h) for f in faces]
    main = max(faces, key=lambda f: f.area)
    scale = rng.uniform(*face_share) * height / main.h
    scaled = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cx = rng.uniform(0.28, 0.72) * width
    cy = rng.uniform(0.3, 0.55) * height
    ox, oy = round(cx - main.center[0] * scale), round(cy - main.center[1] * scale)
    alpha = _feather(scaled.shape[:2])
    _blend(view, scaled, alpha, ox, oy)
    return view, [Rect(ox + f.x * scale, oy + f.y * scale, f.w * scale, f.h * scale) for f in faces]


def _room(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A plain room behind a student: a wall gradient, a door or shelf, a window, a lamp."""
    width, height = size
    wall = rng.integers(60, 210, 3)
    ramp = np.linspace(0.75, 1.1, height)[:, None, None]
    room = np.clip(np.broadcast_to(wall * ramp, (height, width, 3)), 0, 255).astype(np.uint8).copy()
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        colour = tuple(int(c) for c in rng.integers(20, 255, 3))
        cv2.rectangle(room, (x0, y0), (x0 + int(rng.integers(10, width // 2 + 11)),
                                       y0 + int(rng.integers(10, height // 2 + 11))), colour, -1)
    return cv2.GaussianBlur(room, (0, 0), max(1.0, width / 200))


def _feather(shape: tuple[int, int]) -> np.ndarray:
    """An alpha mask that fades out over the outer 8% of a picture, so its edge is no hard line."""
    h, w = shape
    ramp_y = np.clip(np.minimum(np.arange(h), np.arange(h)[::-1]) / max(1, 0.08 * h), 0, 1)
    ramp_x = np.clip(np.minimum(np.arange(w), np.arange(w)[::-1]) / max(1, 0.08 * w), 0, 1)
    return (ramp_y[:, None] * ramp_x[None, :])[..., None]


def _blend(canvas: np.ndarray, picture: np.ndarray, alpha: np.ndarray, ox: int, oy: int) -> None:
    """Alpha-blend `picture` onto `canvas` with its top-left at (ox, oy), cut to the canvas."""
    ch, cw = canvas.shape[:2]
    ph, pw = picture.shape[:2]
    x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + pw, cw), min(oy + ph, ch)
    if x1 <= x0 or y1 <= y0:
        return
    part = picture[y0 - oy:y1 - oy, x0 - ox:x1 - ox].astype(np.float32)
    a = alpha[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    canvas[y0:y1, x0:x1] = (a * part + (1 - a) * canvas[y0:y1, x0:x1]).astype(np.uint8)


def _degrade(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a video call does to a webcam picture: resolution loss, dim light, sensor noise, compression."""
    h, w = picture.shape[:2]
    factor = rng.uniform(0.35, 0.9)
    small = cv2.resize(picture, (max(8, round(w * factor)), max(8, round(h * factor))), interpolation=cv2.INTER_AREA)
    out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    if rng.random() < 0.3:
        out *= rng.uniform(0.35, 0.7)
    out += rng.normal(0, rng.uniform(1, 6), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 71))])
    return cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED)


def _camera_off_tile(screen: MeetingScreen, tile: Rect, look: Look, kind: str, person: Person,
                     rng: np.random.Generator) -> None:
    """A participant without video: the name in large letters, or a round profile picture."""
    x, y, w, h = (int(v) for v in tile)
    screen.image[y:y + h, x:x + w] = look.camera_off
    screen.cameras_off.append(tile)
    if kind == "name":
        name = NAMES[int(rng.integers(len(NAMES)))]
        scale = h / 220
        (tw, th), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        _text(screen.image, name, (x + (w - tw) // 2, y + (h + th) // 2), scale, (235, 235, 235), 2)
        return
    side = round(0.5 * h)
    face = max(person.faces, key=lambda f: f.area)
    cx, cy = face.center
    half = max(face.w, face.h) * 1.1
    crop_rect = Rect(cx - half, cy - half, 2 * half, 2 * half).clipped(person.picture.shape[1], person.picture.shape[0])
    cx0, cy0, cw, ch = (int(v) for v in crop_rect)
    crop = cv2.resize(person.picture[cy0:cy0 + ch, cx0:cx0 + cw], (side, side), interpolation=cv2.INTER_AREA)
    disc = np.zeros((side, side), np.uint8)
    cv2.circle(disc, (side // 2, side // 2), side // 2, 255, -1, cv2.LINE_AA)
    px, py = x + (w - side) // 2, y + (h - side) // 2
    _blend(screen.image, crop, (disc / 255.0)[..., None], px, py)
    shown = Rect(px, py, side, side)  # the whole picture: a face found anywhere on it is the picture's
    screen.pictures.append(shown)
    screen.ignore.append(shown)


def round_corners(image: np.ndarray, tile: Rect, radius: int, background: tuple[int, int, int]) -> None:
    """Paint the tile's corners outside a quarter circle of `radius` in the background colour."""
    if radius <= 1:
        return
    x, y, w, h = (int(v) for v in tile)
    corner = np.zeros((radius, radius), np.uint8)
    cv2.circle(corner, (radius, radius), radius, 255, -1, cv2.LINE_AA)
    outside = corner < 128
    for flip_x, flip_y, cx, cy in ((False, False, x, y), (True, False, x + w - radius, y),
                                   (False, True, x, y + h - radius), (True, True, x + w - radius, y + h - radius)):
        mask = outside[::-1 if flip_y else 1, ::-1 if flip_x else 1]
        image[cy:cy + radius, cx:cx + radius][mask] = background


def _border(image: np.ndarray, tile: Rect, colour: tuple[int, int, int], thickness: int, radius: int) -> None:
    """The active speaker's frame: a line of `thickness` px centred on the tile's edge, so it covers the gutter
    between the speaker's tile and its neighbours (as Zoom draws it) when the gutter is as thin as the line."""
    x, y, w, h = (int(v) for v in tile)
    height, width = image.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    cv2.rectangle(mask, (x, y), (x + w - 1, y + h - 1), 255, thickness, cv2.LINE_AA if radius > 1 else cv2.LINE_8)
    image[mask > 127] = colour


def _name_tag(image: np.ndarray, tile: Rect, name: str, look: Look, rng: np.random.Generator) -> None:
    """The participant's name at the bottom left: white on a dark box (Zoom, Teams) or bare (Meet)."""
    scale = max(0.35, tile.h / 330)
    (tw, th), base = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = int(tile.x) + 6, int(tile.y2) - 6
    if look.tag_box:
        box = image[y - th - base - 4:y, x:x + tw + 8]
        box[:] = (box * 0.35).astype(np.uint8)
    _text(image, name, (x + 4, y - base - 2), scale, (245, 245, 245))
    if rng.random() < 0.3:  # muted microphone icon before the name
        cv2.circle(image, (x + tw + 18, y - th // 2 - 4), max(3, th // 2), (230, 60, 60), -1, cv2.LINE_AA)


def _emoji(image: np.ndarray, tile: Rect, rng: np.random.Generator) -> None:
    """A reaction in the tile's top-left corner: a smiley, a thumbs-up blob or a raised hand."""
    r = max(6, round(tile.h * 0.09))
    cx, cy = int(tile.x) + 2 * r, int(tile.y) + 2 * r
    kind = rng.integers(3)
    if kind == 0:
        cv2.circle(image, (cx, cy), r, (255, 204, 51), -1, cv2.LINE_AA)
        for dx in (-r // 3, r // 3):
            cv2.circle(image, (cx + dx, cy - r // 4), max(1, r // 7), (60, 40, 20), -1, cv2.LINE_AA)
        cv2.ellipse(image, (cx, cy + r // 6), (r // 2, r // 3), 0, 0, 180, (60, 40, 20), max(1, r // 8), cv2.LINE_AA)
    elif kind == 1:
        cv2.ellipse(image, (cx, cy), (r, int(r * 0.7)), 0, 0, 360, (255, 200, 60), -1, cv2.LINE_AA)
        cv2.rectangle(image, (cx - r // 5, cy - 2 * r), (cx + r // 5, cy - r // 2), (255, 200, 60), -1)
    else:
        cv2.rectangle(image, (cx - r // 2, cy - r), (cx + r // 2, cy + r), (255, 190, 40), -1)
        for k in range(4):
            cv2.rectangle(image, (cx - r // 2 + k * r // 4, cy - 2 * r), (cx - r // 2 + k * r // 4 + r // 6, cy - r),
                          (255, 190, 40), -1)


def _text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float, colour, thickness: int = 1) -> None:
    cv2.putText(image, text.encode("ascii", "replace").decode(), (int(origin[0]), int(origin[1])),
                cv2.FONT_HERSHEY_SIMPLEX, max(0.3, scale), colour, thickness, cv2.LINE_AA)
