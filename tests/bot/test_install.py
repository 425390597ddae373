"""ferbot as a package: a wheel built from the repository carries the default classifier and the face detector,
and its `ferbot` runs in a fresh virtual environment, started from another folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers.data import REPO

SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "ferbot", "train")


def _pointers() -> list[Path]:
    """The pointer files that name the shipped checkpoints: every upper-case file in checkpoints/ (DEFAULT, LITE and
    WEBCAM today)."""
    return [p for p in (REPO / "checkpoints").iterdir() if p.is_file() and p.name.isupper()]


def _build_wheel(tmp_path: Path) -> Path:
    """The source archive of a copy of the repository's sources (a build leaves build/ and *.egg-info behind), then
    `pip wheel` on it, with the installed setuptools, so nothing is downloaded."""
    pytest.importorskip("setuptools.command.bdist_wheel", reason="building a wheel needs setuptools>=77 "
                        "(the test extra: pip install -e '.[test]')")
    source = tmp_path / "src"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    (source / "checkpoints").mkdir()
    for pointer in _pointers():
        name = pointer.read_text().strip()
        shutil.copy2(pointer, source / "checkpoints" / pointer.name)
        if not (source / "checkpoints" / name).exists():
            shutil.copytree(REPO / "checkpoints" / name, source / "checkpoints" / name)
    # through a source archive, as `python -m build` and an upload to PyPI go
    build_sdist = f"from setuptools import build_meta; build_meta.build_sdist({str(tmp_path)!r})"
    subprocess.run([sys.executable, "-c", build_sdist], cwd=source, check=True, capture_output=True, text=True)
    (archive,) = tmp_path.glob("ferbot-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "sdist", filter="data")
    (unpacked,) = (tmp_path / "sdist").iterdir()
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(tmp_path / "dist"), str(unpacked)], check=True, capture_output=True, text=True)
    (wheel,) = (tmp_path / "dist").glob("ferbot-*.whl")
    return wheel


def _fresh_venv(folder: Path) -> Path:
    """A new virtual environment whose only ferbot is the one installed into it, which finds its dependencies
    (jax, mediapipe, ...) in this environment's site-packages (appended to its path, so no download)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                           capture_output=True, text=True)
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (Path(probe.stdout.strip()) / "ferbot-test-deps.pth").write_text("\n".join(ours) + "\n")
    return python


@pytest.mark.slow
def test_the_wheel_runs_from_a_fresh_environment(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for pointer in _pointers():  # DEFAULT, LITE and WEBCAM
        packaged = f"ferbot/_checkpoints/{pointer.read_text().strip()}"
        assert f"ferbot/_checkpoints/{pointer.name}" in names
        assert {f"{packaged}/model_card.json", f"{packaged}/weights/_METADATA"} <= names
    assert "ferbot/assets/models/face_detection_short_range.tflite" in names
    assert "ferbot/assets/models/face_landmark.tflite" in names  # the head pose (ferbot.detect.facemesh)
    assert "ferbot/assets/models/iris_landmark.tflite" in names  # the eyelids (ferbot.detect.eyelids)
    assert any(n.startswith("ferbot/assets/demo_faces/") and n.endswith(".jpg") for n in names)
    assert not any(n.endswith(".png") or n.startswith(("checkpoints/", "train/")) for n in names)  # the bot's only
    assert wheel.stat().st_size < 30e6  # the three shipped classifiers (about 20 MB) and the models

    python = _fresh_venv(tmp_path / "venv")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, capture_output=True, text=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FERBOT_CHECKPOINT")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    where = subprocess.run([str(python), "-c", "import ferbot; print(ferbot.__file__)"], cwd=elsewhere, env=env,
                           check=True, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv")
    ferbot = python.parent / ("ferbot.exe" if os.name == "nt" else "ferbot")
    result = subprocess.run([str(ferbot), "--demo", "--sink", "none", "--duration", "3"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    webcam = (REPO / "checkpoints" / "WEBCAM").read_text().strip()  # the bot's classifier unless told otherwise
    assert f"emotion classifier: {tmp_path / 'venv'}" in result.stderr
    assert f"ferbot/_checkpoints/{webcam}" in result.stderr
    assert "analysed" in result.stderr and "analysed 0 " not in result.stderr

    lite = (REPO / "checkpoints" / "LITE").read_text().strip()  # a shipped checkpoint by its name, as the README has it
    named = subprocess.run([str(ferbot), "--demo", "--sink", "none", "--duration", "2", "--checkpoint", lite],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=180)
    assert named.returncode == 0, named.stderr
    assert f"ferbot/_checkpoints/{lite}" in named.stderr


def test_the_installed_mediapipe_sends_no_usage_logs():
    """mediapipe's native library carries Google's usage-log uploader (Clearcut, to play.googleapis.com) from 1.0
    on (0.10.35 on macOS and Windows), with no switch to turn it off; pyproject.toml keeps mediapipe below that, and
    this checks that the one installed has no uploader in it."""
    import mediapipe

    libraries = [p for p in Path(mediapipe.__file__).parent.rglob("*")
                 if p.suffix in (".so", ".dylib", ".dll", ".pyd") and p.is_file()]
    assert libraries, "mediapipe's native library not found"
    marks = (b"clearcut", b"googleapis.com/log")
    carrying = [str(p) for p in libraries if any(mark in p.read_bytes() for mark in marks)]
    assert not carrying, f"mediapipe {mediapipe.__version__} sends usage logs to Google: {carrying}"
