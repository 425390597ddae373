"""Calm real faces through webcams: how often a face that is calm (neutral or smiling) reads as a difficult state
(angry, fear, sad or surprise: the report's difficult states), for checkpoints side by side.

    python -m benchmarks.calm_faces [--checkpoints checkpoints/A checkpoints/B] [--seeds 2] [--per-face]

The faces are the photograph faces of benchmarks/attention.py (PHOTO_FACES: the portraits and classroom faces of
tests/data/faces, and with ../shared/faces the Pexels portraits, a dancer and three people at a meeting table;
these photographs are also the demo faces). Each face's expression was labelled by eye from the photographs
before any classifier ran on them (EXPRESSIONS below): 19 calm (neutral or smiling; several looking down at a
laptop, turned aside, behind glasses, a hand at the chin), 2 not calm (an angry grimace and a surprised face, kept
as a check that difficult states still read as difficult; both are in ../shared/faces, and without it that
column is left out, with a note). The babies of ../shared/faces are left out.

Each face is made into webcam views as the attention benchmark makes them (tests/helpers/webcam.py): nodded -20,
-10, 0, 10 and 20 degrees (a camera below or above the screen), centred and 55% of the way to either side, the
face 15-45% of the picture's height, then degraded like video (soft, dim, noisy, JPEG 30-70), with --seeds
different draws of the random parts. Each view goes through the bot's own steps: the face finder, the FER2013
framing of the crop, the classifier; the label is the classifier's most probable class, as the feed shows it for a
face seen once (the bot's smoothing over time is left out). A view whose face the finder misses is counted apart.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from benchmarks.attention import NODS, PHOTO_FACES, SIDE_OFFSET, photo_face
from benchmarks.command import (
    SHARED_FACES,
    add_checkpoints_option,
    benchmark_parser,
    checkpoints_compared,
    run_benchmark,
)
from ferbot import EmotionClassifier
from ferbot.classify.devices import use_cpu_cores
from ferbot.console import whole_number
from ferbot.detect import FaceFinder
from ferbot.detect.crops import face_crops
from ferbot.emotions import CLASS_NAMES
from ferbot.report.summary import DIFFICULT
from tests.helpers.faces import the_face
from tests.helpers.webcam import View, degrade, framed_at_random, webcam_view
from train.evaluate import predict_with_tta

CALM, NOT_CALM = "calm", "not calm"
# By eye, PHOTO_FACES order: astronaut (smiling), Grace Hopper, Bryan (smiling), Luciano, the model (hand at
# the chin), nine classroom faces (neutral; one small and soft, one turned), the Pexels "angry" grimace, the Pexels
# "neutral" portrait, the surprised Santa, the dancer (slight smile), the man bowed over his laptop, the woman and
# the man with glasses turned aside at the meeting table (neutral).
EXPRESSIONS: tuple[str, ...] = (CALM,) * 14 + (NOT_CALM, CALM, NOT_CALM) + (CALM,) * 4
DIFFICULT_INDEX = [i for i, name in enumerate(CLASS_NAMES) if name.lower() in DIFFICULT]


def face_crops_in_views(finder: FaceFinder, seeds: int,
                        shared: Path | None = SHARED_FACES) -> tuple[list[np.ndarray], list[int], int]:
    """The bot's 48x48 crop of every webcam view in which the finder found the face, the PHOTO_FACES index of
    each, and the number of views the finder missed; `shared` (None: the repository's photographs only) adds the
    faces of ../shared/faces."""
    crops, owners, missed = [], [], 0
    faces = {index: found for index, (name, box, _) in enumerate(PHOTO_FACES)
             if (found := photo_face(name, box, shared)) is not None}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        for index, (photo, face) in faces.items():
            for view in _views(rng):
                picture, truth = webcam_view(photo, face, view)
                picture = degrade(picture, rng)
                found = the_face(finder.find(picture), truth)
                if found is None:
                    missed += 1
                    continue
                crops.append(face_crops(picture, [found.box])[0])
                owners.append(index)
    return crops, owners, missed


def _views(rng: np.random.Generator) -> list[View]:
    """Five nods by three positions, each with a random face size and height."""
    return [framed_at_random(View(pitch=nod, offset=(side * SIDE_OFFSET, 0.0)), rng)
            for nod in NODS for side in (-1, 0, 1)]


def difficult_reads(classifier: EmotionClassifier, crops: np.ndarray, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per crop: whether its most probable class is a difficult state, and the label, with or without averaging
    the mirrored crop in."""
    probabilities = predict_with_tta(classifier.predict_proba, crops, "flip" if flip else "none")
    labels = probabilities.argmax(axis=1)
    return np.isin(labels, DIFFICULT_INDEX), labels


def print_results(name: str, difficult: np.ndarray, labels: np.ndarray, owners: np.ndarray) -> None:
    """One checkpoint's line: calm views read as difficult (overall, and the median face), not-calm views read
    as difficult (left out when there are none), and which difficult states the calm views got."""
    calm = np.array([EXPRESSIONS[i] == CALM for i in owners])
    per_face = [difficult[owners == i].mean() for i in np.unique(owners[calm])]
    states = {CLASS_NAMES[k]: int(np.sum(labels[calm & difficult] == k)) for k in DIFFICULT_INDEX}
    not_calm = f"not calm read as difficult {100 * difficult[~calm].mean():5.1f}%   " if (~calm).any() else ""
    print(f"  {name:34s} calm read as difficult {100 * difficult[calm].mean():5.1f}% "
          f"(median face {100 * statistics.median(per_face):5.1f}%, worst {100 * max(per_face):5.1f}%)   "
          + not_calm + ", ".join(f"{state} {count}" for state, count in states.items() if count))


def print_faces(difficult: np.ndarray, labels: np.ndarray, owners: np.ndarray) -> None:
    """Per face (PHOTO_FACES order): its photograph, the expression labelled by eye, the share of its views read
    as difficult, and how many views got each label."""
    for index in np.unique(owners):
        views = owners == index
        counts = np.bincount(labels[views], minlength=len(CLASS_NAMES))
        share = 100 * difficult[views].mean()
        print(f"    {index:2d} {PHOTO_FACES[index][0]:34s} {EXPRESSIONS[index]:9s} {share:5.1f}% difficult  "
              + " ".join(f"{CLASS_NAMES[k]} {n}" for k, n in enumerate(counts) if n))


def main() -> None:
    p = benchmark_parser(__doc__)
    add_checkpoints_option(p)
    p.add_argument("--seeds", type=whole_number(1), default=2, help="random draws of each face's views (default: 2)")
    p.add_argument("--per-face", action="store_true",
                   help="also each face's share of views read as difficult and the labels its views got")
    args = p.parse_args()
    use_cpu_cores()
    paths = checkpoints_compared(args)
    with FaceFinder() as finder:
        crops, owners, missed = face_crops_in_views(finder, args.seeds)
    crops, owners = np.stack(crops), np.array(owners)
    calm = sum(EXPRESSIONS[i] == CALM for i in owners)
    print(f"{len(np.unique(owners))} faces, {len(crops)} webcam views found ({calm} calm, {len(crops) - calm} not "
          f"calm), {missed} views missed by the finder")
    if calm == len(crops):
        print(f"no not-calm face: both are photographs of ../shared/faces ({SHARED_FACES}), so the check that "
              "difficult states still read as difficult is left out")
    for path in paths:
        classifier = EmotionClassifier.load(path)
        plain = difficult_reads(classifier, crops, flip=False)
        print_results(path.name, *plain, owners)
        print_results(f"{path.name} + flip", *difficult_reads(classifier, crops, flip=True), owners)
        if args.per_face:
            print_faces(*plain, owners)


if __name__ == "__main__":
    run_benchmark(main)
