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


@dataclass(frozen=True)
class OutputLayout:
    """Where everything goes in an output frame of `size` = (width, height)."""

    size: tuple[int, int]

    @property
    def markers(self) -> MarkerLayout:
        return MarkerLayout(self.size)

    @property
    def bar_height(self) -> int:
        return self.markers.corner_block

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
    """Draws output frames; keeps the class-mood timeline of the last `timeline_s` seconds. `excluded` regions
    (source pixels) are outlined so the viewer sees that they are left out of the analysis."""

    def __init__(self, size: tuple[int, int] = (1280, 720), timeline_s: float = 300.0,
                 excluded: Sequence[Rect] = ()):
        self.layout = OutputLayout(size)
        self.excluded = tuple(excluded)
        self.timeline = MoodTimeline(timeline_s)
        self._chrome = self._draw_chrome()
        self._panel = self._draw_panel([], 0.0)

    def update_mood(self, timestamp: float, faces: Sequence[TrackedFace]) -> None:
        """Record a new analysis in the timeline and redraw the panel (once per analysis, not per frame)."""
        students = [f for f in faces if f.missed == 0 and not f.picture]
        self.timeline.add(timestamp, class_shares(students))
        self._panel = self._draw_panel(students, timestamp)

    def render(self, image: np.ndarray, faces: Sequence[TrackedFace]) -> np.ndarray:
        """An RGB output frame showing the RGB source `image` with `faces` (boxes in source pixels)."""
        out = self._chrome.copy()
        scale, (x, y), (w, h) = self.layout.fit((image.shape[1], image.shape[0]))
        out[y:y + h, x:x + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        area_x, area_y, area_w, area_h = self.layout.screen_area.as_int()
        # labels stay inside the screen area: never over the markers, the disclosure or the panel
        screen, offset = out[area_y:area_y + area_h, area_x:area_x + area_w], (x - area_x, y - area_y)
        height, width = image.shape[:2]
        draw_excluded(screen, [r.clipped(width, height) for r in self.excluded], scale, offset)
        draw_faces(screen, faces, scale, offset)
        px, py, pw, ph = self.layout.panel.as_int()
        out[py:py + ph, px:px + pw] = self._panel
        return out

    def _draw_panel(self, visible: Sequence[TrackedFace], now: float) -> np.ndarray:
        panel = self.layout.panel
        width = int(panel.w)
        attention = float(np.mean([f.attention for f in visible])) if visible else None
        return draw_panel((width, int(panel.h)), len(visible), class_shares(visible),
                          self.timeline.resample(now, width), self.timeline.window_s, attention)

    def _draw_chrome(self) -> np.ndarray:
        """Everything that never changes: background, top bar, disclosure, markers."""
        width, height = self.layout.size
        out = np.zeros((height, width, 3), np.uint8)
        bar = self.layout.bar_height
        out[:bar] = BAR_BACKGROUND
        font_scale = bar / 110
        (tw, th), base = cv2.getTextSize(DISCLOSURE, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 2)
        x = self.layout.markers.corner_block + bar // 4
        y = (bar + th) // 2
        radius = th // 2 + 2
        cv2.circle(out, (x + radius, y - th // 2), radius, DISCLOSURE_RED, cv2.FILLED, cv2.LINE_AA)
        cv2.putText(out, DISCLOSURE, (x + 3 * radius, y), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 2,
                    cv2.LINE_AA)
        paint_markers(out, self.layout.markers)
        return out
