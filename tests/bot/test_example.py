"""The README's Python example (examples/classify_faces.py) runs as a user would run it."""

from __future__ import annotations

import re
import subprocess
import sys

from ferbot import CLASS_NAMES
from tests.helpers.data import REPO
from tests.helpers.faces import FACES_DIR


def test_the_example_classifies_the_faces_of_photographs():
    photos = [FACES_DIR / "mpl_grace_hopper.jpg", FACES_DIR / "singnet_woman_portrait.jpg"]
    run = subprocess.run([sys.executable, "examples/classify_faces.py", *map(str, photos)], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("1 face(s)") == 2
    names = "|".join(CLASS_NAMES)
    faces = re.findall(rf"face at x=\d+ y=\d+ w=\d+ h=\d+: ({names}) (\d+)%, ({names}) (\d+)%", run.stdout)
    assert len(faces) == 2
    assert all(int(first) >= int(second) for _, first, _, second in faces)  # ranked, most likely first
