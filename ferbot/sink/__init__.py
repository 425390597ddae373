"""Sink: where output frames go. SINKS is the one list of them; `--sink` is parsed and opened through it."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from dataclasses import dataclass

from ferbot.console import given_path
from ferbot.sink.base import NullSink, Sink, SinkError

__all__ = ["SINKS", "SINK_CHOICES", "Sink", "SinkError", "open_sink", "parse_sink", "sink_option"]


def _virtual_camera(path: str | None, size: tuple[int, int], fps: float) -> Sink:
    from ferbot.sink.vcam import VirtualCameraSink

    return VirtualCameraSink(size, fps)


def _preview_window(path: str | None, size: tuple[int, int], fps: float) -> Sink:
    from ferbot.sink.window import PreviewWindow

    return PreviewWindow(size)


def _video_file(path: str | None, size: tuple[int, int], fps: float) -> Sink:
    from ferbot.sink.file import VideoFileSink

    return VideoFileSink(path, size, fps)


def _nowhere(path: str | None, size: tuple[int, int], fps: float) -> Sink:
    return NullSink()


@dataclass(frozen=True)
class SinkKind:
    """One kind of sink: its --sink name, what it is, whether it takes `:PATH`, and how to open it."""

    name: str
    description: str
    open: Callable[[str | None, tuple[int, int], float], Sink]
    takes_path: bool = False

    @property
    def spec(self) -> str:
        return f"{self.name}:PATH" if self.takes_path else self.name


SINKS: dict[str, SinkKind] = {kind.name: kind for kind in (
    SinkKind("vcam", 'the "FER Cam" virtual camera', _virtual_camera),
    SinkKind("window", "a preview window (closing it, q or Esc stops ferbot)", _preview_window),
    SinkKind("file", "a video file (.mkv, .avi, .mp4, ...: .mkv or .avi for long recordings)", _video_file,
             takes_path=True),
    SinkKind("none", "no output (e.g. with --log)", _nowhere),
)}
SINK_CHOICES = "|".join(kind.spec for kind in SINKS.values())


def parse_sink(spec: str) -> tuple[SinkKind, str | None]:
    """'vcam' -> (the vcam kind, None); 'file:out.mp4' -> (the file kind, 'out.mp4'); else ValueError."""
    name, _, path = spec.partition(":")
    kind = SINKS.get(name)
    if kind is not None and kind.takes_path and not path:
        raise ValueError(f"--sink {spec!r}: {kind.name}: needs a path, e.g. {kind.name}:feed.mp4")
    if kind is None or kind.takes_path != bool(path):
        raise ValueError(f"--sink {spec!r}: expected {SINK_CHOICES}")
    return kind, os.path.expanduser(path) if path else None  # file:~/x: the shell leaves ~ as it is


def sink_option(text: str) -> str:
    """An argparse type: a --sink value that parse_sink accepts, its path a given_path, kept as written."""
    try:
        _, path = parse_sink(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix(f"--sink {text!r}: ")) from None
    if path is not None:
        given_path(path)
    return text


def open_sink(spec: str, size: tuple[int, int], fps: float) -> Sink:
    """Open the sink named by a --sink value, for frames of size (width, height) at `fps`."""
    kind, path = parse_sink(spec)
    return kind.open(path, size, fps)
