"""The output frame: the captured screen with per-face labels, the class-mood panel, the disclosure and the
self-recognition markers.

Layout (W x H): a top bar holding the two markers and "Emotion analysis is ON"; below it the screen, scaled
to fit, on the left and the mood panel on the right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ferbot.exclusions import Exclusions
from ferbot.geometry import Rect
from ferbot.render.mood import MoodTimeline, class_shares
from ferbot.render.overlay import draw_excluded, draw_faces
from ferbot.render.panel import draw_panel
from ferbot.selfview import MarkerLayout, paint_markers
from ferbot.track.tracker import TrackedFace

DISCLOSURE = "Emotion analysis is ON"
BAR_BACKGROUND = (18, 18, 22)
DISCLOSURE_RED = (235, 40, 40)
PANEL_SHARE = 0.22  # of the output width
TIMELINE_S = 300.0  # the class-mood timeline's span
# The annotation layer's background: a colour the annotations never use (their anti-aliased edges blend into it,
# as into a dark screen), so "drawn" is simply "not this colour".
_UNDRAWN = np.array((1, 2, 3), np.uint8)
NOTICE_BACKGROUND = (30, 30, 36)
NOTICE_AMBER = (245, 160, 30)
STOPPED = "FER Cam stopped - no analysis"  # the card a virtual camera is left showing
STOPPED_GREY = (150, 150, 160)  # the disclosure's dot, no longer red
STOPPED_TEXT_SIZE = 1.5  # the card's text, in top bars' heights: 0.86 of the width of a square feed, at most


@dataclass(frozen=True)
class OutputLayout:
    """Where everything goes in an output frame of `size` = (width, height)."""

    size: tuple[int, int]

    @property
    def markers(self) -> MarkerLayout:
        return MarkerLayout(self.size)

    @property
    def bar_height(self) -> int:
        return self.markers.marker_block

    @property
    def panel(self) -> Rect:
        width, height = self.size
        panel_w = round(width * PANEL_SHARE)
        return Rect(width - panel_w, self.bar_height, panel_w, height - self.bar_height)

    @property
    def screen_area(self) -> Rect:
        return Rect(0, self.bar_height, self.panel.x, self.size[1] - self.bar_height)

    def fit(self, source_size: tuple[int, int]) -> tuple[float, tuple[int, int], tuple[int, int]]:
        """How a source of (width, height) is shown: scale, top-left offset and size on the output."""
        area = self.screen_area
        scale = min(area.w / source_size[0], area.h / source_size[1])
        w, h = max(1, round(source_size[0] * scale)), max(1, round(source_size[1] * scale))
        return scale, (int(area.x + (area.w - w) // 2), int(area.y + (area.h - h) // 2)), (w, h)


class Renderer:
    """Draws output frames; keeps the class-mood timeline of the last TIMELINE_S seconds. `excluded` regions
    are outlined so the viewer sees that they are left out of the analysis."""

    def __init__(self, size: tuple[int, int] = (1280, 720), excluded: Exclusions | None = None):
        self.layout = OutputLayout(size)
        self.excluded = excluded or Exclusions()
        self.timeline = MoodTimeline(TIMELINE_S)
        self._chrome = self._draw_chrome()
        self._panel = self._draw_panel([], 0.0)
        self._panel_version = 0
        self._layer = self._layer_key = self._layer_faces = None
        self.notice: tuple[str, ...] = ()  # lines shown over the top of the screen area (what to check), if any

    def update_mood(self, timestamp: float, faces: Sequence[TrackedFace]) -> None:
        """Record a new analysis in the timeline and redraw the panel (once per analysis, not per frame), over the
        faces the feed labels: those detected in it and those missed for a moment (they keep their label), not
        still pictures."""
        students = [f for f in faces if not f.picture]
        self.timeline.add(timestamp, class_shares(students))
        self._panel = self._draw_panel(students, timestamp)
        self._panel_version += 1

    def render(self, image: np.ndarray, faces: Sequence[TrackedFace]) -> np.ndarray:
        """An RGB output frame showing the RGB source `image` with `faces` (boxes in source pixels).

        Per frame only the captured picture changes: it is scaled into the frame, and a layer holding the labels,
        markers of excluded regions and the panel, drawn once per new `faces` (a new analysis) or panel, is laid
        over it. Passing the same `faces` object again reuses that layer.
        """
        scale, (x, y), (w, h) = self.layout.fit((image.shape[1], image.shape[0]))
        key = (image.shape[:2], self._panel_version, self.notice)
        if self._layer is None or self._layer_key != key or self._layer_faces is not faces:
            self._layer = self._draw_layer(image.shape[:2], faces, scale, (x, y))
            self._layer_key, self._layer_faces = key, faces
        base, (ox, oy, overlay, mask) = self._layer
        out = base.copy()
        out[y:y + h, x:x + w] = scale_picture(image, (w, h))
        if overlay is not None:
            view = out[oy:oy + overlay.shape[0], ox:ox + overlay.shape[1]]
            drawn = cv2.copyTo(overlay, mask, view)  # into the view, in 0.1 ms (numpy's masked copyto: 5 ms)
            if drawn is not view:  # an OpenCV that allocated instead
                view[...] = drawn
        return out

    def _draw_layer(self, source_shape: tuple[int, int], faces: Sequence[TrackedFace], scale: float,
                    origin: tuple[int, int]):
        """The frame without the picture (chrome and panel), and the annotations as a patch with its mask."""
        base = self._chrome.copy()
        px, py, pw, ph = self.layout.panel.as_int()
        base[py:py + ph, px:px + pw] = self._panel
        height, width = source_shape
        if not faces and not self.excluded and not self.notice:
            return base, (0, 0, None, None)
        # labels stay inside the screen area: never over the markers, the disclosure or the panel
        area_x, area_y, area_w, area_h = self.layout.screen_area.as_int()
        canvas = np.empty((area_h, area_w, 3), np.uint8)
        cv2.rectangle(canvas, (0, 0), (area_w, area_h), _UNDRAWN.tolist(), cv2.FILLED)  # numpy's fill: 4 ms
        offset = (origin[0] - area_x, origin[1] - area_y)
        inside = [clipped for r in self.excluded.in_frame(width, height)
                  if (clipped := r.clipped(width, height)).area > 0]
        unit = self.layout.size[1] / 720  # the tags grow with the output, as the bar and the panel do
        draw_excluded(canvas, inside, scale, offset, unit)  # one wholly outside the frame excludes nothing
        draw_faces(canvas, faces, scale, offset, unit)
        _draw_notice(canvas, self.notice)
        # OpenCV's: numpy's comparison and reduction over the canvas took 15 ms, on the output thread, at every
        # analysis (a 50-60 ms gap in the feed)
        drawn = cv2.bitwise_not(cv2.inRange(canvas, _UNDRAWN, _UNDRAWN))
        left, top, w, h = cv2.boundingRect(drawn)
        if not w:
            return base, (0, 0, None, None)
        return base, (area_x + left, area_y + top, canvas[top:top + h, left:left + w].copy(),
                      drawn[top:top + h, left:left + w].copy())

    def _draw_panel(self, visible: Sequence[TrackedFace], now: float) -> np.ndarray:
        panel = self.layout.panel
        width = int(panel.w)
        attention = float(np.mean([f.attention for f in visible])) if visible else None
        return draw_panel((width, int(panel.h)), len(visible), class_shares(visible),
                          self.timeline.resample(now, width), self.timeline.window_s, attention)

    def _draw_chrome(self) -> np.ndarray:
        """Everything that never changes: background, top bar, disclosure (centred, so that an app that crops the
        feed's sides to fit its tile keeps it), markers."""
        width, height = self.layout.size
        out = np.zeros((height, width, 3), np.uint8)
        bar = self.layout.bar_height
        out[:bar] = BAR_BACKGROUND
        draw_disclosure(out, DISCLOSURE, DISCLOSURE_RED, top=0, height=bar)
        paint_markers(out, self.layout.markers)
        return out


def draw_disclosure(canvas: np.ndarray, text: str, dot: tuple[int, int, int], top: int, height: int) -> None:
    """The disclosure's look: `text` in white after a dot of colour `dot`, centred across `canvas` in the band
    `height` pixels high from `top` (the top bar's height gives the disclosure's size)."""
    font_scale = height / 110
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 2)
    radius = th // 2 + 2
    x = (canvas.shape[1] - 3 * radius - tw) // 2
    y = top + (height + th) // 2
    cv2.circle(canvas, (x + radius, y - th // 2), radius, dot, cv2.FILLED, cv2.LINE_AA)
    cv2.putText(canvas, text, (x + 3 * radius, y), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 2,
                cv2.LINE_AA)


def stopped_card(size: tuple[int, int]) -> np.ndarray:
    """The frame a virtual camera is left showing once ferbot stops: STOPPED in the disclosure's look, alone on the
    top bar's colour, at size = (width, height)."""
    width, height = size
    card = np.empty((height, width, 3), np.uint8)
    card[:] = BAR_BACKGROUND
    text_height = round(STOPPED_TEXT_SIZE * OutputLayout(size).bar_height)
    draw_disclosure(card, STOPPED, STOPPED_GREY, top=(height - text_height) // 2, height=text_height)
    return card


def scale_picture(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` resized to size=(width, height), cheaply enough for every output frame.

    OpenCV's area filter, right for shrinking, costs ~12 ms for 1920x1080 to 1000x563 on the development machine
    (a third of a core at 30 fps) but under 1 ms for an exact halving; so the picture is halved with it while it
    stays at least twice the target, and the rest (a factor between 1/2 and 1, or an enlargement) is bilinear,
    which at those factors still reads every source pixel.
    """
    w, h = size
    image = halved_down_to(image, w, h)
    if (image.shape[1], image.shape[0]) == (w, h):
        return image
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR)


def halved_down_to(image: np.ndarray, width: int, height: int = 0) -> np.ndarray:
    """`image` halved with OpenCV's area filter (under 1 ms a halving at 1080p) while it stays at least twice
    `width` wide and twice `height` high, and never to nothing (a banner-shaped frame)."""
    while image.shape[1] >= 2 * max(width, 1) and image.shape[0] >= 2 * max(height, 1):
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return image


def _draw_notice(canvas: np.ndarray, lines: Sequence[str]) -> None:
    """A dark box with `lines` of white text at the top of the screen area (the first line in amber), the text made
    smaller where the area is too narrow for it."""
    if not lines:
        return
    font_scale = float(np.clip(canvas.shape[1] / 1400, 0.45, 0.9))
    widest = max(cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)[0][0] for line in lines)
    font_scale *= min(1.0, (canvas.shape[1] - 8 - 24) / widest)  # the box's margins and padding
    sizes = [cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1) for line in lines]
    line_h = max(h + base for (_, h), base in sizes) + 6
    width = min(canvas.shape[1] - 8, max(w for (w, _), _ in sizes) + 24)
    x, y = (canvas.shape[1] - width) // 2, 8
    cv2.rectangle(canvas, (x, y), (x + width, y + line_h * len(lines) + 12), NOTICE_BACKGROUND, cv2.FILLED)
    for i, line in enumerate(lines):
        color = NOTICE_AMBER if i == 0 else (255, 255, 255)
        cv2.putText(canvas, line, (x + 12, y + 6 + line_h * (i + 1) - 6), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    color, 1, cv2.LINE_AA)
