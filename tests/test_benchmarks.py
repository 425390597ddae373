"""The benchmarks' command lines: a usage mistake is one line before any work, and the XLA set-ups comparison runs
a real benchmark under both set-ups (the figures themselves are the benchmarks' to report, not a test's)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ferbot.classify.checkpoint import shipped_models
from tests.helpers.cli import env_with, one_error_line
from tests.helpers.data import REPO


def benchmark(name: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m benchmarks.NAME ARGS` from the repository, waited for."""
    return subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *args], cwd=REPO, env=env_with(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("name, args, message", [
    ("soak", ["--out", "no-such-folder/soak.csv"], "--out no-such-folder/soak.csv: folder no-such-folder does not"),
    ("soak", ["--plot", "no-such-folder/soak.png"], "--plot no-such-folder/soak.png: folder no-such-folder does"),
    ("attention", ["--fer2013", "typo.npz"], "FER2013 typo.npz: no such file"),
    ("xla_setups", ["classifier_latency", "--stock-xla"], "--stock-xla: not among the benchmark's options here"),
    ("class_bias", ["--drops", "half"], "--drops: 'half': give points of accuracy"),
])
def test_a_usage_mistake_is_one_line_before_any_work(name, args, message):
    result = benchmark(name, *args)
    assert result.returncode == 2
    assert message in one_error_line(result, f"{name}.py")


@pytest.mark.slow
def test_the_xla_set_ups_run_side_by_side_with_a_ratio():
    lite = shipped_models()["lite"].relative_to(REPO)
    result = benchmark("xla_setups", "--rounds", "1", "classifier_latency", "--checkpoints", str(lite),
                       "--batch", "8", "--rounds", "1", "--calls", "3", timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("round 1/1") == 2  # one fresh process per set-up
    [row] = re.findall(rf"{re.escape(str(lite))}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x", result.stdout)
    ours, stock, ratio = map(float, row)
    assert ours > 0 and stock > 0 and ratio == pytest.approx(ours / stock, abs=0.01)
