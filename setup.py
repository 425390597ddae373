"""Build hook: a wheel carries the default emotion classifier.

pyproject.toml holds the project's metadata; this file only adds the checkpoint that checkpoints/DEFAULT names
(as `python -m train` exported and promoted it) to the built package, as ferbot/_checkpoints/<name>/ with its
own DEFAULT, where ferbot.classify.checkpoint looks when it is not running from a checkout. The confusion-matrix
pictures stay behind: the bot does not read them. An editable install (`pip install -e .`) copies nothing: it
reads checkpoints/ in the checkout.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
CHECKPOINTS = ROOT / "checkpoints"
LEFT_OUT = ("*.png",)


class BuildWithCheckpoint(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        pointer = CHECKPOINTS / "DEFAULT"
        if not pointer.is_file():
            raise SystemExit(f"cannot build ferbot: {pointer} is missing; build from a checkout of the repository "
                             "with an exported classifier (python -m train)")
        name = pointer.read_text().strip()
        source = CHECKPOINTS / name
        if not (source / "model_card.json").is_file():
            raise SystemExit(f"cannot build ferbot: {pointer} names {name}, but {source} is not a checkpoint")
        target = Path(self.build_lib) / "ferbot" / "_checkpoints"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target / name, ignore=shutil.ignore_patterns(*LEFT_OUT))
        (target / "DEFAULT").write_text(name + "\n")


setup(cmdclass={"build_py": BuildWithCheckpoint})
