"""Sink: where output frames go (virtual camera, preview window, video file, nowhere)."""

from __future__ import annotations

from ferbot.sink.base import NullSink, Sink, SinkError

__all__ = ["SINK_CHOICES", "Sink", "SinkError", "open_sink", "parse_sink"]

SINK_CHOICES = "vcam|window|file:PATH|none"


def parse_sink(spec: str) -> tuple[str, str | None]:
    """'vcam' -> ('vcam', None); 'file:out.mp4' -> ('file', 'out.mp4'); anything else raises ValueError."""
    kind, _, path = spec.partition(":")
    if kind == "file" and path:
        return kind, path
    if kind in ("vcam", "window", "none") and not path:
        return kind, None
    raise ValueError(f"--sink {spec!r}: expected {SINK_CHOICES}")


def open_sink(spec: str, size: tuple[int, int], fps: float) -> Sink:
    """Open the sink named by a --sink value."""
    kind, path = parse_sink(spec)
    if kind == "vcam":
        from ferbot.sink.vcam import VirtualCameraSink

        return VirtualCameraSink(size, fps)
    if kind == "window":
        from ferbot.sink.window import PreviewWindow

        return PreviewWindow()
    if kind == "file":
        from ferbot.sink.file import VideoFileSink

        return VideoFileSink(path, size, fps)
    return NullSink()
