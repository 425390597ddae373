"""Watching a training run's folder from a test, and stopping the run the way a user would."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path


def came_true(condition: Callable[[], bool], timeout: float, every_s: float = 0.01) -> bool:
    """Wait until `condition()` holds; False if it did not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)
    return True


def has_saved_step(latest: Path) -> bool:
    """Whether a run's `latest` checkpoint folder holds a saved step."""
    return any(p.name.isdigit() for p in latest.glob("*"))


def saved_a_step(latest: Path, timeout: float) -> bool:
    """Wait until the run's `latest` checkpoint folder holds a saved step; False if none came within `timeout` s."""
    return came_true(lambda: has_saved_step(latest), timeout)


def has_card_without_metrics(folder: Path) -> bool:
    """Whether an export under `folder` has written its model card but not yet its metrics."""
    try:
        cards = list(folder.rglob("model_card.json"))
    except OSError:  # a folder renamed while it was walked (Orbax's temporary one, as it finishes its save)
        return False
    for card in cards:
        try:
            if "metrics" not in json.loads(card.read_text()):
                return True
        except (OSError, ValueError):  # being written
            pass
    return False


def ctrl_c_when(condition: Callable[[], bool], timeout: float = 120.0, until: threading.Event | None = None,
                every_s: float = 0.25) -> threading.Thread:
    """A started thread that sends this process a real Ctrl-C (SIGINT) once `condition()` holds, if it does within
    `timeout` s. With `until`, again every `every_s` s until it is set (by the code under test's `finally`): Python
    drops a KeyboardInterrupt that a signal raises inside a garbage-collection callback (JAX has one) as
    "unraisable", so one Ctrl-C can be lost, as a user's can, who then presses it again."""
    def watch() -> None:
        if not came_true(condition, timeout):
            return
        os.kill(os.getpid(), signal.SIGINT)
        while until is not None and not until.wait(every_s):
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
