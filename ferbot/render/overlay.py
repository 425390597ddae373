"""Per-face annotations: a box in the emotion's colour with the label and confidence above it and an attention
bar below it; a thin grey outline labelled "excluded" around each region left out of the analysis."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ferbot.emotions import EMOTION_COLORS
from ferbot.geometry import Rect, intersection_matrix
from ferbot.track.tracker import TrackedFace

FONT = cv2.FONT_HERSHEY_SIMPLEX
EXCLUDED_GREY = (150, 150, 150)
PICTURE_GREY = (128, 128, 128)
FACING_COLORS = ((90, 200, 235), (70, 70, 78))  # the attention bar's fill and track, at or above AWAY_BELOW
AWAY_COLORS = ((245, 160, 30), (110, 75, 25))  # below it
AWAY_BELOW = 0.5
BAR_GAP = 3  # pixels between a box and its attention bar


def label_text(face: TrackedFace) -> str:
    """What a face's label says, e.g. 'Happy 87%'."""
    return f"{face.emotion} {face.confidence:.0%}"


def draw_faces(canvas: np.ndarray, faces: Sequence[TrackedFace], scale: float, offset: tuple[int, int],
               unit: float = 1.0) -> list[Rect]:
    """Annotate faces (boxes in source pixels) on an RGB canvas showing the source at `scale`, moved by `offset`;
    `unit` is the output's height over 720 pixels, which the tags, lines and bars grow with on larger outputs.

    Faces missed in the last analysed frame keep their label with a thinner box, so labels do not blink. The bar
    under the box fills with the face's attention, in amber when it is below AWAY_BELOW. A still picture is
    outlined in grey and labelled "picture", without emotion or attention. A tag goes above its box, or, where
    that would cover another tag or face, inside the box's top or under its bar. Returns where the tags went.
    """
    grow = max(unit, 1.0)
    boxes = [_on_canvas(face.box, scale, offset) for face in faces]
    corners = np.array(boxes, np.float64).reshape(-1, 4)
    tags = np.zeros_like(corners)
    for index, (face, (x, y, w, h)) in enumerate(zip(faces, boxes)):
        avoid = np.concatenate([tags[:index], corners[:index], corners[index + 1:]])
        if face.picture:
            cv2.rectangle(canvas, (x, y), (x + w, y + h), PICTURE_GREY, max(1, round(grow)), cv2.LINE_AA)
            tags[index] = _label(canvas, "picture", (x, y, w, h), PICTURE_GREY, grow, avoid)
            continue
        color = EMOTION_COLORS[face.emotion]
        line = max(2, round(2 * grow)) if face.missed == 0 else max(1, round(grow))
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, line, cv2.LINE_AA)
        tags[index] = _label(canvas, label_text(face), (x, y, w, h), color, grow, avoid)
        _attention_bar(canvas, face.attention, (x, y, w, h))
    return [Rect(*tag) for tag in tags.tolist()]


def draw_excluded(canvas: np.ndarray, regions: Sequence[Rect], scale: float, offset: tuple[int, int],
                  unit: float = 1.0) -> None:
    """Outline the excluded regions (source pixels) in thin grey, labelled "excluded", like `draw_faces`."""
    grow = max(unit, 1.0)
    for region in regions:
        x, y, w, h = _on_canvas(region, scale, offset)
        cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), EXCLUDED_GREY, max(1, round(grow)),
                      cv2.LINE_AA)  # just inside
        _label(canvas, "excluded", (x, y, w, h), EXCLUDED_GREY, grow, np.empty((0, 4)))


def _on_canvas(box: Rect, scale: float, offset: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box in source pixels as whole canvas pixels (x, y, w, h)."""
    return box.scaled(scale).shifted(*offset).as_int()


def text_color_on(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever contrasts more with the background (WCAG's contrast ratio of relative
    luminances)."""
    linear = [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in background]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return (0, 0, 0) if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else (255, 255, 255)


def _attention_bar(canvas: np.ndarray, attention: float, box: tuple[int, int, int, int]) -> None:
    """A bar as wide as the box under it (inside its bottom edge where the canvas ends below), filled in proportion
    to `attention` (0-1); amber when it is low."""
    x, y, width, h = box
    thickness = _bar_thickness(width)
    y = y + h + BAR_GAP if y + h + BAR_GAP + thickness < canvas.shape[0] else y + h - BAR_GAP - thickness
    fill, track = FACING_COLORS if attention >= AWAY_BELOW else AWAY_COLORS
    cv2.rectangle(canvas, (x, y), (x + width, y + thickness), track, cv2.FILLED)
    filled = round(width * min(max(attention, 0.0), 1.0))
    if filled:
        cv2.rectangle(canvas, (x, y), (x + filled, y + thickness), fill, cv2.FILLED)


def _bar_thickness(width: int) -> int:
    """How thick the attention bar under a box `width` pixels wide is."""
    return max(3, width // 25)


def _label(canvas: np.ndarray, text: str, box: tuple[int, int, int, int], color: tuple[int, int, int], grow: float,
           avoid: np.ndarray) -> Rect:
    """A filled tag for the box, inside the canvas: above it, else inside its top edge, else under its attention
    bar, the first of those that covers none of the rectangles `avoid` (n, 4: x, y, w, h), or the first that fits
    the canvas where each does; returns where it went."""
    x, y, w, h = box
    font_scale = float(np.clip(w / 110, 0.42 * grow, 0.7 * grow))
    weight = max(1, round(grow))
    (tw, th), base = cv2.getTextSize(text, FONT, font_scale, weight)
    tag_w, tag_h = tw + 6, th + base + 4
    left = max(0, min(x, canvas.shape[1] - tag_w))  # slid left rather than cut at the right edge
    under_bar = y + h + BAR_GAP + _bar_thickness(w) + 2
    tops = [top for top in (y - tag_h, y, under_bar) if 0 <= top <= canvas.shape[0] - tag_h] or [max(y, 0)]
    spots = [Rect(left, top, tag_w, tag_h) for top in tops]
    covered = intersection_matrix(spots, avoid).any(axis=1)
    spot = spots[int(np.argmin(covered))]  # the first free one, or the first
    sx, sy = round(spot.x), round(spot.y)
    cv2.rectangle(canvas, (sx, sy), (sx + tag_w, sy + tag_h), color, cv2.FILLED)
    cv2.putText(canvas, text, (sx + 3, sy + th + 2), FONT, font_scale, text_color_on(color), weight, cv2.LINE_AA)
    return spot
