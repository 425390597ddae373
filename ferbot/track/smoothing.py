"""Exponential moving averages whose memory is set in seconds, so smoothing does not depend on frame rate."""

from __future__ import annotations

import math

import numpy as np


def ema_weight(dt: float, time_constant: float) -> float:
    """Weight of an observation made `dt` seconds after the previous one, for an average that forgets with
    the given time constant (seconds). 0 = no smoothing (weight 1)."""
    if time_constant <= 0:
        return 1.0
    return 1.0 - math.exp(-max(dt, 0.0) / time_constant)


def ema(previous: np.ndarray | float, observed: np.ndarray | float, dt: float,
        time_constant: float) -> np.ndarray | float:
    """The moving average after an observation `dt` seconds after the previous one."""
    return previous + ema_weight(dt, time_constant) * (observed - previous)
