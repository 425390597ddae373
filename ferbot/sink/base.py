"""What every sink does with output frames."""

from __future__ import annotations

from typing import Protocol

import numpy as np

# A thread waiting for another (a video file's writer for frames, the pipeline's analysis for a frame or a stop)
# looks again at least this often: a Ctrl-C landing inside a wake-up's notify can lose it.
WAKE_UP_S = 0.25


class SinkError(RuntimeError):
    """A sink cannot be opened, or stopped taking frames; the message says what to do."""


class Sink(Protocol):
    """Takes RGB uint8 output frames (H, W, 3). `send` returns False when the viewer asked to stop."""

    def send(self, frame: np.ndarray) -> bool: ...

    def close(self) -> None: ...


class NullSink:
    """`--sink none`: frames go nowhere (useful with --log)."""

    def send(self, frame: np.ndarray) -> bool:
        return True

    def close(self) -> None:
        pass
