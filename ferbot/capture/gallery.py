"""A Zoom-like meeting gallery: pictures in 16:9 tiles on a dark background, with name tags (the `--demo` source's
screen; the tests and benchmarks compose theirs from the same pieces)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from ferbot.geometry import Rect

BACKGROUND = (26, 26, 26)  # Zoom's gallery background
TILE_BACKGROUND = (58, 58, 60)
TILE_ASPECT = 16 / 9


def grid_shape(count: int) -> tuple[int, int]:
    """(rows, cols) of the most square grid that holds `count` tiles, as Zoom lays them out."""
    cols = math.ceil(math.sqrt(count))
    return math.ceil(count / cols), cols


def gallery_tiles(count: int, size: tuple[int, int], gutter: int = 8) -> list[Rect]:
    """Tile rectangles for `count` participants on a size=(width, height) screen, `gutter` pixels apart and from
    its edges; the last row is centred."""
    width, height = size
    return grid_tiles(Rect(gutter, gutter, width - 2 * gutter, height - 2 * gutter), count, gutter)


def grid_tiles(area: Rect, count: int, gutter: int) -> list[Rect]:
    """16:9 tiles in the most square grid holding `count` (grid_shape), `gutter` pixels apart, as large as fit and
    centred in `area` (integer pixels); the last row is centred too."""
    rows, cols = grid_shape(count)
    tile_w = min((area.w - (cols - 1) * gutter) / cols, (area.h - (rows - 1) * gutter) / rows * TILE_ASPECT)
    tile_w, tile_h = int(tile_w), int(tile_w / TILE_ASPECT)
    top = int(area.y) + (int(area.h) - rows * tile_h - (rows - 1) * gutter) // 2
    tiles = []
    for row in range(rows):
        in_row = min(cols, count - row * cols)
        left = int(area.x) + (int(area.w) - in_row * tile_w - (in_row - 1) * gutter) // 2
        tiles += [Rect(left + c * (tile_w + gutter), top + row * (tile_h + gutter), tile_w, tile_h)
                  for c in range(in_row)]
    return tiles


def empty_gallery(tiles: Sequence[Rect], size: tuple[int, int]) -> np.ndarray:
    """The gallery background with empty tiles."""
    screen = np.full((size[1], size[0], 3), BACKGROUND, np.uint8)
    for tile in tiles:
        tx, ty, tw, th = tile.as_int()
        screen[ty:ty + th, tx:tx + tw] = TILE_BACKGROUND
    return screen


def fit_picture(picture: np.ndarray, tile: Rect, fill: float = 0.9) -> np.ndarray:
    """The picture as RGB, scaled to `fill` of the tile's height (and no wider than the tile)."""
    if picture.ndim == 2:
        picture = cv2.cvtColor(picture, cv2.COLOR_GRAY2RGB)
    scale = min(tile.h * fill / picture.shape[0], tile.w / picture.shape[1])
    size = max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def paste_picture(screen: np.ndarray, picture: np.ndarray, tile: Rect,
                  offset: tuple[float, float] = (0.0, 0.0)) -> Rect:
    """Paste a fitted picture centred in its tile, moved by `offset` and cut to the tile; returns where it went."""
    ph, pw = picture.shape[:2]
    tx, ty, tw, th = tile.as_int()
    place = Rect(tx + (tw - pw) // 2 + round(offset[0]), ty + (th - ph) // 2 + round(offset[1]), pw, ph)
    _paste_inside(screen, picture, place, tile)
    return place


def draw_name_tags(screen: np.ndarray, names: Sequence[str], tiles: Sequence[Rect]) -> None:
    """Zoom-style name tags in the tiles' bottom-left corners."""
    for name, tile in zip(names, tiles):
        _name_tag(screen, name, tile)


def _paste_inside(screen: np.ndarray, picture: np.ndarray, place: Rect, tile: Rect) -> None:
    """Paste `picture` at `place`, cut to the tile."""
    visible = place.clipped(screen.shape[1], screen.shape[0])
    x0, y0 = max(visible.x, tile.x), max(visible.y, tile.y)
    x1, y1 = min(visible.x2, tile.x2), min(visible.y2, tile.y2)
    if x1 <= x0 or y1 <= y0:
        return
    x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
    px, py = x0 - int(place.x), y0 - int(place.y)
    screen[y0:y1, x0:x1] = picture[py:py + y1 - y0, px:px + x1 - x0]


def _name_tag(screen: np.ndarray, name: str, tile: Rect) -> None:
    scale = max(0.4, tile.h / 400)
    (tw, th), base = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x, y = int(tile.x) + 6, int(tile.y2) - 6
    cv2.rectangle(screen, (x, y - th - base - 4), (x + tw + 8, y), (20, 20, 20), cv2.FILLED)
    cv2.putText(screen, name, (x + 4, y - base - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (235, 235, 235), 1,
                cv2.LINE_AA)
