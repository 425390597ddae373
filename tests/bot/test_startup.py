"""Starts fast: the classifier's programs are kept in the user's cache, so the second launch reaches its first
output frame within seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.startup import launch
from ferbot.classify.devices import cache_dir

SECOND_LAUNCH_S = 5.0  # 2.1 s on the 2-core development machine under load (README); room for a busy CI runner


def test_the_cache_is_in_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "ferbot"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / ".cache" / "ferbot"


@pytest.mark.slow
def test_the_second_launch_loads_the_compiled_classifier(tmp_path):
    first = launch(str(tmp_path), "none", [])
    cached = list((tmp_path / "ferbot" / "jax").iterdir())
    assert cached, "the first launch left nothing in the compilation cache"
    second = launch(str(tmp_path), "none", [])
    assert second["first output frame"] <= SECOND_LAUNCH_S, (first, second)
    assert second["first analysis"] < first["first analysis"] + 1, (first, second)  # nothing left to compile
    assert len(list((tmp_path / "ferbot" / "jax").iterdir())) == len(cached)  # and nothing new was written
