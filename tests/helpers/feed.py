"""The feed against the screen it shows: where the renderer's layout (OutputLayout.fit) puts the screen and its
boxes, and the screen scaled there independently of the renderer (OpenCV's area filter, not its halving)."""

from __future__ import annotations

import cv2
import numpy as np

from ferbot.geometry import Rect
from ferbot.render import OutputLayout


def feed_of(screen: np.ndarray, layout: OutputLayout) -> np.ndarray:
    """An output frame of the layout's size showing the RGB `screen` scaled to where the layout puts it, black
    around it: the feed before anything is drawn on it."""
    _, (x, y), (w, h) = layout.fit((screen.shape[1], screen.shape[0]))
    feed = np.zeros((layout.size[1], layout.size[0], 3), np.uint8)
    feed[y:y + h, x:x + w] = cv2.resize(screen, (w, h), interpolation=cv2.INTER_AREA)
    return feed


def on_feed(box: Rect, layout: OutputLayout, screen_size: tuple[int, int]) -> Rect:
    """Where `box`, in the pixels of a screen of screen_size = (width, height), is on the feed."""
    scale, (ox, oy), _ = layout.fit(screen_size)
    return box.scaled(scale).shifted(ox, oy)


def screen_difference(feed: np.ndarray, screen: np.ndarray, layout: OutputLayout) -> float:
    """The mean absolute difference, per pixel and channel, between the screen's area on `feed` and `screen` as
    the layout shows it (small where the feed shows this screen, up to compression and drawn labels)."""
    _, (x, y), (w, h) = layout.fit((screen.shape[1], screen.shape[0]))
    area = np.s_[y:y + h, x:x + w]
    return float(np.abs(feed[area].astype(int) - feed_of(screen, layout)[area]).mean())
