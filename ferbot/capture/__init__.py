"""Capture: where frames come from. SOURCES is the one list of named sources; any other --source is a file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2

from ferbot.capture.base import Frame, Source, SourceError
from ferbot.geometry import Rect

__all__ = ["SOURCES", "SOURCE_CHOICES", "Frame", "Source", "SourceError", "open_source", "open_window",
           "takes_screen_options"]


def _screen(monitor: int | None, region: Rect | None) -> Source:
    from ferbot.capture.screen import ScreenSource

    return ScreenSource(monitor, region)


def _demo(monitor: int | None, region: Rect | None) -> Source:
    from ferbot.capture.demo import DemoSource

    return DemoSource()


@dataclass(frozen=True)
class SourceKind:
    """A named source: its --source name, what it is, whether --monitor/--region apply, and how to open it."""

    name: str
    description: str
    open: Callable[[int | None, Rect | None], Source]
    on_screen: bool = False


SOURCES: dict[str, SourceKind] = {kind.name: kind for kind in (
    SourceKind("screen", "the primary monitor, or --monitor/--region", _screen, on_screen=True),
    SourceKind("demo", "a built-in meeting gallery of sample faces (no display needed)", _demo),
)}
SOURCE_CHOICES = "|".join(SOURCES) + "|FILE"
ANIMATED = {".gif", ".png", ".apng", ".webp"}  # image formats whose animations play as a video


def open_source(spec: str = "screen", *, monitor: int | None = None, region: Rect | None = None) -> Source:
    """The source a --source value names: one of SOURCES, else an image or a video file."""
    kind = SOURCES.get(spec)
    if kind is not None:
        return kind.open(monitor, region)
    from ferbot.capture.video import StillImageSource, VideoFileSource, image_frames

    path = Path(spec)
    if path.is_dir():
        raise SourceError(f"--source {spec}: a folder, not a file; give a video file or an image in it")
    if not path.exists():
        raise SourceError(f"--source {spec}: no such file; give {', '.join(SOURCES)}, a video file or an image")
    if not path.is_file():
        raise SourceError(f"--source {spec}: not a regular file (a device or a pipe); give a video file or an image")
    try:
        path.open("rb").close()  # else OpenCV logs its own warnings and blames the file's format
    except OSError as err:
        raise SourceError(f"--source {spec}: cannot read it ({err.strerror or err}); check the file's "
                          "permissions") from None
    if cv2.haveImageReader(str(path)) and not (path.suffix.lower() in ANIMATED and image_frames(path) > 1):
        return StillImageSource(path)  # a multi-page TIFF too: its first page (FFmpeg plays no more of it)
    return VideoFileSource(path)


def open_window(title: str) -> Source:
    """`--window TITLE`: the window whose title contains TITLE, followed as it moves and resizes."""
    from ferbot.capture.window import WindowSource

    return WindowSource(title)


def takes_screen_options(spec: str) -> bool:
    """Whether --monitor and --region apply to this --source value."""
    kind = SOURCES.get(spec)
    return kind is not None and kind.on_screen
