"""Capture: where frames come from (screen, video file, still image, demo gallery)."""

from __future__ import annotations

from pathlib import Path

import cv2

from ferbot.capture.base import Frame, Source, SourceError
from ferbot.geometry import Rect

__all__ = ["Frame", "Source", "SourceError", "open_source"]


def open_source(source: str = "screen", *, monitor: int | None = None, region: Rect | None = None,
                demo: bool = False) -> Source:
    """The source the user asked for: the demo gallery, the screen ('screen'), an image or a video file."""
    if demo:
        from ferbot.capture.demo import DemoSource

        return DemoSource()
    if source == "screen":
        from ferbot.capture.screen import ScreenSource

        return ScreenSource(monitor, region)
    from ferbot.capture.video import StillImageSource, VideoFileSource

    path = Path(source)
    if not path.is_file():
        raise SourceError(f"--source {source}: no such file; give 'screen', a video file or an image")
    if cv2.haveImageReader(str(path)):
        return StillImageSource(path)
    return VideoFileSource(path)
