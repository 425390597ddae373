"""Per-face annotations: a box in the emotion's colour with the label and confidence above it and an attention
bar below it; a thin grey outline labelled "excluded" around each region left out of the analysis."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ferbot.emotions import EMOTION_COLORS
from ferbot.geometry import Rect
from ferbot.track.tracker import TrackedFace

FONT = cv2.FONT_HERSHEY_SIMPLEX
EXCLUDED_GREY = (150, 150, 150)
PICTURE_GREY = (128, 128, 128)
FACING_COLORS = ((90, 200, 235), (70, 70, 78))  # the attention bar's fill and track, at or above AWAY_BELOW
AWAY_COLORS = ((245, 160, 30), (110, 75, 25))  # below it
AWAY_BELOW = 0.5


def label_text(face: TrackedFace) -> str:
    """What a face's label says, e.g. 'Happy 87%'."""
    return f"{face.emotion} {face.confidence:.0%}"


def draw_faces(canvas: np.ndarray, faces: Sequence[TrackedFace], scale: float, offset: tuple[int, int]) -> None:
    """Annotate faces (boxes in source pixels) on an RGB canvas showing the source at `scale`, moved by `offset`.

    Faces missed in the last analysed frame keep their label with a thinner box, so labels do not blink. The bar
    under the box fills with the face's attention, in amber when it is below AWAY_BELOW. A still picture is
    outlined in grey and labelled "picture", without emotion or attention.
    """
    for face in faces:
        if face.picture:
            x, y, w, h = _on_canvas(face.box, scale, offset)
            cv2.rectangle(canvas, (x, y), (x + w, y + h), PICTURE_GREY, 1, cv2.LINE_AA)
            _label(canvas, "picture", x, y, w, PICTURE_GREY)
            continue
        color = EMOTION_COLORS[face.emotion]
        x, y, w, h = _on_canvas(face.box, scale, offset)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, 2 if face.missed == 0 else 1, cv2.LINE_AA)
        _label(canvas, label_text(face), x, y, w, color)
        _attention_bar(canvas, face.attention, x, y + h + 3, w)


def draw_excluded(canvas: np.ndarray, regions: Sequence[Rect], scale: float, offset: tuple[int, int]) -> None:
    """Outline the excluded regions (source pixels) in thin grey, labelled "excluded", like `draw_faces`."""
    for region in regions:
        x, y, w, h = _on_canvas(region, scale, offset)
        cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), EXCLUDED_GREY, 1, cv2.LINE_AA)  # just inside
        _label(canvas, "excluded", x, y, w, EXCLUDED_GREY)


def _on_canvas(box: Rect, scale: float, offset: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box in source pixels as whole canvas pixels (x, y, w, h)."""
    return box.scaled(scale).shifted(*offset).as_int()


def text_color_on(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever reads better on the background."""
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 140 else (255, 255, 255)


def _attention_bar(canvas: np.ndarray, attention: float, x: int, y: int, width: int) -> None:
    """A bar `width` pixels long at (x, y), filled in proportion to `attention` (0-1); amber when it is low."""
    thickness = max(3, width // 25)
    fill, track = FACING_COLORS if attention >= AWAY_BELOW else AWAY_COLORS
    cv2.rectangle(canvas, (x, y), (x + width, y + thickness), track, cv2.FILLED)
    filled = round(width * min(max(attention, 0.0), 1.0))
    if filled:
        cv2.rectangle(canvas, (x, y), (x + filled, y + thickness), fill, cv2.FILLED)


def _label(canvas: np.ndarray, text: str, x: int, y: int, box_w: int, color: tuple[int, int, int]) -> None:
    """A filled tag above the box (below its top edge when there is no room above), inside the canvas."""
    font_scale = float(np.clip(box_w / 110, 0.42, 0.7))
    (tw, th), base = cv2.getTextSize(text, FONT, font_scale, 1)
    tag_h = th + base + 4
    top = y - tag_h if y - tag_h >= 0 else y
    x = max(0, min(x, canvas.shape[1] - tw - 6))  # slid left rather than cut at the right edge
    cv2.rectangle(canvas, (x, top), (x + tw + 6, top + tag_h), color, cv2.FILLED)
    cv2.putText(canvas, text, (x + 3, top + th + 2), FONT, font_scale, text_color_on(color), 1, cv2.LINE_AA)
