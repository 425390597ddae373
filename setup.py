"""Build hook: a wheel carries the shipped emotion classifiers.

pyproject.toml holds the project's metadata; this file only adds the shipped checkpoints to the built package
(and to the source archive, whose wheel is built from it):
each one a pointer file in checkpoints/ names (DEFAULT, WEBCAM and LITE: the upper-case files holding a
folder's name, as `python -m train` promoted them), as ferbot/_checkpoints/<name>/ beside a copy of its pointer,
where ferbot.classify.checkpoint looks when it is not running from a checkout. The confusion-matrix
pictures stay behind: the bot does not read them. An editable install (`pip install -e .`) copies nothing: it
reads checkpoints/ in the checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

ROOT = Path(__file__).resolve().parent
CHECKPOINTS = ROOT / "checkpoints"
LEFT_OUT = ("*.png",)


def copy_shipped_checkpoints(target: Path) -> None:
    """Copy into `target` each checkpoint a pointer file of checkpoints/ names, and the pointer."""
    if not (CHECKPOINTS / "DEFAULT").is_file():
        raise SystemExit(f"cannot build ferbot: {CHECKPOINTS / 'DEFAULT'} is missing; build from a checkout of "
                         "the repository with an exported classifier (python -m train)")
    shutil.rmtree(target, ignore_errors=True)
    for pointer in CHECKPOINTS.iterdir():
        if pointer.is_file() and pointer.name.isupper():
            _package(pointer, target)


def _package(pointer: Path, target: Path) -> None:
    """Copy the checkpoint `pointer` names, and the pointer, under `target`."""
    name = pointer.read_text().strip()
    source = CHECKPOINTS / name
    if not (source / "model_card.json").is_file():
        raise SystemExit(f"cannot build ferbot: {pointer} names {name}, but {source} is not a checkpoint")
    if not (target / name).exists():
        shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(*LEFT_OUT))
    (target / pointer.name).write_text(name + "\n")


class BuildWithCheckpoints(build_py):
    """The wheel: the shipped checkpoints as ferbot/_checkpoints/."""

    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            copy_shipped_checkpoints(Path(self.build_lib) / "ferbot" / "_checkpoints")


class SdistWithCheckpoints(sdist):
    """The source archive: the shipped checkpoints in its checkpoints/, from which its wheel is built."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        copy_shipped_checkpoints(Path(base_dir) / "checkpoints")


setup(cmdclass={"build_py": BuildWithCheckpoints, "sdist": SdistWithCheckpoints})
