"""What a test needs from the machine (a program, tkinter, FER2013): where it is missing the test is skipped, and
under CI ($CI set, as .ci/run sets it) it fails instead, so that a runner without it cannot pass by skipping."""

from __future__ import annotations

import os
import shutil


def unavailable(message: str) -> None:
    """Skip the test, saying what is missing and how to get it; under CI, fail it."""
    import pytest  # here, not at the top: the benchmarks import tests.helpers after a plain install, without pytest

    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message} (CI must have it)")
    pytest.skip(message)


def need_program(*names: str, package: str) -> str:
    """The path of the first of `names` on PATH; unavailable() if none is (`package`: the Debian package)."""
    found = next((path for path in map(shutil.which, names) if path), None)
    if found is None:
        unavailable(f"{names[0]} is not installed (apt install {package}); .ci/run installs it")
    return found


def need_tkinter(what: str) -> None:
    """unavailable() where Python has no tkinter; `what` needs it."""
    try:
        import tkinter  # noqa: F401
    except ImportError:
        unavailable(f"{what} needs tkinter (apt install python3-tk, or a Python built with it)")
