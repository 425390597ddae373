"""`python -m train` end to end as a user runs it: train, Ctrl-C, resume, export, evaluate, user errors."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from ferbot.console import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from tests.conftest import REPO, fer2013_path

TINY = ["--widths", "8,16,16", "--dense", "16", "--batch-size", "32", "--epochs", "2", "--limit-train", "1600"]


def _train_cmd(tmp_path, *extra):
    return [sys.executable, "-m", "train", "--data", str(fer2013_path()), "--name", "cli",
            "--runs-dir", str(tmp_path / "runs"), "--export-dir", str(tmp_path / "ckpt"), "--no-progress",
            *TINY, *extra]


def _run(cmd, **kw):
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600, **kw)


def test_ctrl_c_then_same_command_resumes_exports_and_evaluates(tmp_path):
    cmd = _train_cmd(tmp_path, "--tta", "none,flip", "--checkpoint-every", "5")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    latest = tmp_path / "runs" / "cli" / "latest"
    deadline = time.monotonic() + 240
    while not any(p.name.isdigit() for p in latest.glob("*")) and time.monotonic() < deadline:
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INTERRUPTED, out[-2000:]
    assert "run the same command to resume" in out

    resumed = _run(cmd)
    assert resumed.returncode == EXIT_OK, resumed.stderr[-2000:]
    assert "resuming from step" in resumed.stderr
    card = json.loads((tmp_path / "ckpt" / "cli" / "model_card.json").read_text())
    assert [r["epoch"] for r in card["training"]["history"]] == [1, 2]
    assert card["command"].startswith("python -m train --data") and "--checkpoint-every" in card["command"]
    assert (tmp_path / "ckpt" / "DEFAULT").read_text().strip() == "cli"

    evaluated = _run([sys.executable, "-m", "train", "eval", "--checkpoint", str(tmp_path / "ckpt" / "cli"),
                      "--data", str(fer2013_path()), "--tta", "none,flip", "--out", str(tmp_path / "eval")])
    assert evaluated.returncode == EXIT_OK, evaluated.stderr[-2000:]
    for split in ("PublicTest", "PrivateTest"):
        for tta in ("none", "flip"):
            assert re.search(rf"{split} +tta={tta} +accuracy \d+\.\d\d% +macro-F1", evaluated.stderr)
        assert (tmp_path / "eval" / f"confusion_{split}.png").exists()
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["PrivateTest"]["none"] == card["metrics"]["PrivateTest"]["none"]
    assert set(metrics["PrivateTest"]["none"]["recall"]) >= {"Disgust", "Neutral"}


@pytest.mark.parametrize("args, status, expected", [
    (["--data", "/nowhere/fer2013.csv"], EXIT_ERROR, "FER2013 not found at /nowhere/fer2013.csv"),
    (["--tta", "rotate"], EXIT_USAGE, "--tta takes a comma-separated list"),
    (["eval", "--checkpoint", "/nowhere"], EXIT_ERROR, "is not a ferbot checkpoint"),
])
def test_user_mistakes_get_one_line(tmp_path, args, status, expected):
    run = _run([sys.executable, "-m", "train", *args], env={**os.environ, "FER2013_PATH": str(fer2013_path())})
    assert run.returncode == status
    errors = [line for line in run.stderr.splitlines() if line.startswith("python -m train: error:")]
    assert len(errors) == 1 and expected in errors[0], run.stderr[-2000:]
    assert "Traceback" not in run.stderr


def test_help_lists_hyper_parameters():
    run = _run([sys.executable, "-m", "train", "--help"])
    assert run.returncode == EXIT_OK
    for flag in ("--data", "--epochs", "--lr", "--widths", "--class-weight-power", "--erase-prob", "--fresh"):
        assert flag in run.stdout
