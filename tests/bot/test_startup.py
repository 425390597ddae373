"""Starts fast: the classifier's programs are kept in the user's cache, so the second launch loads them instead of
compiling them again (how many seconds that saves: `python -m benchmarks.startup`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.startup import launch
from ferbot.classify.devices import cache_dir

HIT, MISS = "Persistent compilation cache hit", "PERSISTENT COMPILATION CACHE MISS"  # JAX's own log lines


def test_the_cache_is_in_the_users_cache_folder(monkeypatch, tmp_path):
    """$XDG_CACHE_HOME chooses on macOS too (benchmarks.startup starts from an empty cache by setting it)."""
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "ferbot"
    monkeypatch.setattr("sys.platform", "darwin")
    assert cache_dir() == tmp_path / "ferbot"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == Path.home() / "Library" / "Caches" / "ferbot"
    monkeypatch.setattr("sys.platform", "linux")
    assert cache_dir() == Path.home() / ".cache" / "ferbot"


@pytest.mark.slow
def test_the_second_launch_loads_the_compiled_classifier(monkeypatch, tmp_path):
    """JAX logs every persistent-cache hit and miss (JAX_LOG_COMPILES, JAX_EXPLAIN_CACHE_MISSES): the first
    launch compiles and stores the classifier's programs, the second loads every one it runs (how many batch sizes
    a two-second run reaches varies) and compiles none."""
    monkeypatch.setenv("JAX_LOG_COMPILES", "1")
    monkeypatch.setenv("JAX_EXPLAIN_CACHE_MISSES", "1")
    first, second = [], []
    launch(str(tmp_path), "none", [], first)
    assert sum(MISS in line for line in first) > 0 and not any(HIT in line for line in first)
    assert list((tmp_path / "ferbot" / "jax").iterdir()), "the first launch left nothing in the compilation cache"
    launch(str(tmp_path), "none", [], second)
    assert any(HIT in line for line in second) and not any(MISS in line for line in second), "".join(second)
