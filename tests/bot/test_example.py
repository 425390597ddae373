"""The README's Python example (examples/classify_faces.py) runs as a user would run it."""

from __future__ import annotations

import re
import subprocess
import sys

from ferbot import CLASS_NAMES
from ferbot.detect import face_crops
from ferbot.geometry import Rect
from tests.helpers.data import REPO
from tests.helpers.faces import FACES_DIR, matches, photo, photo_faces


def test_the_example_classifies_the_faces_of_photographs(default_classifier):
    """Each photograph's one face is printed where it is (its box labelled by eye in tests/helpers/faces.py), with
    the classes the default classifier gives its crop, most likely first."""
    names = ("mpl_grace_hopper.jpg", "singnet_woman_portrait.jpg")
    run = subprocess.run([sys.executable, "examples/classify_faces.py", *(str(FACES_DIR / n) for n in names)],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("1 face(s)") == 2
    classes = "|".join(CLASS_NAMES)
    faces = re.findall(rf"face at x=(\d+) y=(\d+) w=(\d+) h=(\d+): ({classes}) (\d+)%, ({classes}) (\d+)%",
                       run.stdout)
    assert len(faces) == 2
    for name, (x, y, w, h, first, share, _, next_share) in zip(names, faces):
        picture = photo(name)
        box = Rect(float(x), float(y), float(w), float(h))
        assert matches(box, photo_faces(name, picture)[0])
        probabilities = default_classifier.predict_proba(face_crops(picture, [box]))[0]
        assert first == CLASS_NAMES[probabilities.argmax()] and int(share) >= int(next_share)
        assert abs(int(share) - 100 * probabilities.max()) <= 1.5  # the box is printed in whole pixels
