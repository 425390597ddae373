"""The class-mood panel: a bar per emotion for the class now, how much of the class faces the screen, and a
stacked timeline of the last minutes."""

from __future__ import annotations

import cv2
import numpy as np

from ferbot.emotions import CLASS_NAMES, EMOTION_COLORS

FONT = cv2.FONT_HERSHEY_SIMPLEX
PANEL_BACKGROUND = (34, 34, 40)
TEXT = (235, 235, 235)
MUTED = (150, 150, 160)


def draw_panel(size: tuple[int, int], face_count: int, shares: np.ndarray, history: np.ndarray,
               window_s: float, attention: float | None = None) -> np.ndarray:
    """An RGB panel of size (width, height).

    shares: (7,) the class now; history: (columns, 7) shares over the last `window_s` seconds, oldest first
    (all-zero rows: no data yet); attention: the faces' mean attention (None: no faces).
    """
    width, height = size
    panel = np.full((height, width, 3), PANEL_BACKGROUND, np.uint8)
    pad = max(8, width // 24)
    scale = width / 560  # font scale that fits the panel width
    y = pad + _text(panel, "Class mood", (pad, pad), 2 * scale, TEXT, 2)
    y += pad // 2 + _text(panel, f"{face_count} face{'s' if face_count != 1 else ''} in view", (pad, y + pad // 2),
                          1.3 * scale, MUTED, 1)
    if attention is not None:
        y += pad // 2 + _text(panel, f"{attention:.0%} facing the screen", (pad, y + pad // 2), 1.3 * scale, MUTED, 1)
    row_h = int(height * 0.055)
    y += pad
    share_scale = 1.25 * scale
    widest_share = cv2.getTextSize("100%", FONT, share_scale, 1)[0][0]
    bar_x, bar_end = pad + int(width * 0.30), width - pad - widest_share - pad // 2
    for name, share, percent in zip(CLASS_NAMES, shares, whole_percents(shares)):
        color = EMOTION_COLORS[name]
        _text(panel, name, (pad, y + row_h // 5), share_scale, TEXT, 1)
        cv2.rectangle(panel, (bar_x, y + 3), (bar_end, y + row_h - 3), (60, 60, 68), cv2.FILLED)
        if share > 0:
            cv2.rectangle(panel, (bar_x, y + 3), (bar_x + round((bar_end - bar_x) * float(share)), y + row_h - 3),
                          color, cv2.FILLED)
        _text(panel, f"{percent}%", (bar_end + pad // 2, y + row_h // 5), share_scale, TEXT, 1)
        y += row_h
    y += pad
    y += pad // 2 + _text(panel, f"Last {window_s / 60:.0f} min", (pad, y), 1.3 * scale, MUTED, 1)
    chart = panel[y:height - pad, pad:width - pad]
    _stacked_timeline(chart, history)
    return panel


def whole_percents(shares: np.ndarray) -> list[int]:
    """The shares as whole percentages, rounded down, with the points left given to the largest remainders, so that
    they add up to 100 (none where the shares are all zero); but equal shares always read the same, so where a
    point cannot go to every share with the same remainder it goes to none of them: Happy, Sad and Angry once each
    read 33% thrice (99 in all), not 34% for whichever class comes first."""
    exact = 100 * np.asarray(shares, np.float64) / max(float(np.sum(shares)), 1e-9)
    percents = np.floor(exact + 1e-6).astype(int)
    left = 100 - int(percents.sum()) if np.sum(shares) > 0 else 0
    remainders = np.round(exact - percents, 6)
    for remainder in sorted(set(remainders[remainders > 0]), reverse=True):
        tied = remainders == remainder
        if tied.sum() > left:
            break
        percents[tied] += 1
        left -= int(tied.sum())
    return percents.tolist()


def _text(canvas: np.ndarray, text: str, top_left: tuple[int, int], scale: float, color, thickness: int) -> int:
    """Draw text with its top-left corner at `top_left`; returns its height in pixels."""
    (_, th), base = cv2.getTextSize(text, FONT, scale, thickness)
    cv2.putText(canvas, text, (top_left[0], top_left[1] + th), FONT, scale, color, thickness, cv2.LINE_AA)
    return th + base


def _stacked_timeline(chart: np.ndarray, history: np.ndarray) -> None:
    """Fill the chart (a view into the panel) with one stacked column of shares per history row."""
    height, width = chart.shape[:2]
    if height < 4 or width < 4 or len(history) == 0:
        return
    chart[:] = (44, 44, 52)
    columns = history[np.linspace(0, len(history) - 1, width).round().astype(int)]
    top = np.cumsum(columns, axis=1) * height  # (width, 7) upper edge of each class, in pixels from the bottom
    bottom = top - columns * height
    rows = (height - 1 - np.arange(height))[:, None]  # pixel rows measured from the bottom
    for k, name in enumerate(CLASS_NAMES):
        inside = (rows >= bottom[None, :, k]) & (rows < top[None, :, k])
        chart[inside] = EMOTION_COLORS[name]
