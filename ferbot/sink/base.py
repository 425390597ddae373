"""What every sink does with output frames."""

from __future__ import annotations

from typing import Protocol

import numpy as np


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
