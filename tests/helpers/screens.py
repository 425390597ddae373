"""Meeting screens composed for tests and benchmarks from real pictures, with the true place of each picture."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ferbot.capture.gallery import draw_name_tags, empty_gallery, fit_picture, gallery_tiles, paste_picture
from ferbot.geometry import Rect


@dataclass(frozen=True)
class Gallery:
    """A composed screen. `placements[i]` is where picture i was drawn, in screen pixels."""

    image: np.ndarray
    tiles: list[Rect]
    placements: list[Rect]

    def map_box(self, i: int, box: Rect, picture_size: tuple[int, int]) -> Rect:
        """A box given in picture i's own pixels (picture_size = its (width, height)), in screen pixels."""
        place = self.placements[i]
        scale = place.w / picture_size[0]
        return Rect(place.x + box.x * scale, place.y + box.y * scale, box.w * scale, box.h * scale)


def compose_gallery(pictures: Sequence[np.ndarray], size: tuple[int, int] = (1920, 1080),
                    names: Sequence[str] | None = None, fill: float = 0.9) -> Gallery:
    """Draw RGB (or grayscale) pictures into gallery tiles on an RGB screen of size (width, height).

    Each picture is scaled to `fill` of its tile's height and centred; names[i] is drawn as a name tag in
    the tile's bottom-left corner.
    """
    tiles = gallery_tiles(len(pictures), size)
    screen = empty_gallery(tiles, size)
    placements = [paste_picture(screen, fit_picture(picture, tile, fill), tile)
                  for picture, tile in zip(pictures, tiles)]
    if names is not None:
        draw_name_tags(screen, names, tiles)
    return Gallery(screen, tiles, placements)
