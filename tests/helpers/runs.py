"""Watching a training run's folder from a test."""

from __future__ import annotations

import time
from pathlib import Path


def saved_a_step(latest: Path, timeout: float) -> bool:
    """Wait until the run's `latest` checkpoint folder holds a saved step; False if none came within `timeout` s."""
    deadline = time.monotonic() + timeout
    while not any(p.name.isdigit() for p in latest.glob("*")):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
