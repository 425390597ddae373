"""A class bias instead of training: seven numbers added to a checkpoint's log-probabilities, fitted on PublicTest to
agree most with the FER+ crowd's majority while PublicTest accuracy falls by at most a given number of points. How
far does it move the FER+ agreement and the calm webcam faces read as difficult, at no cost per face?

    python -m benchmarks.class_bias [--checkpoint PATH] [--drops 0.5,1,2,none] [--seeds 2]

The bias is fitted by coordinate ascent (each class's term in turn, in steps of 0.05 from -2 to 2, three rounds)
on PublicTest, the split checkpoints are picked on; PrivateTest is read only to print each fitted bias's figures
beside it. The calm faces are those of benchmarks/calm_faces.py (their webcam views, the bot's finder and crop,
one plain pass); they are not used to fit anything. "none" fits without a floor on accuracy.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.calm_faces import CALM, DIFFICULT_INDEX, EXPRESSIONS, face_crops_in_views
from benchmarks.command import (
    add_checkpoint_option,
    benchmark_parser,
    fer2013_path,
    official_fer2013,
    run_benchmark,
)
from ferbot import EmotionClassifier
from ferbot.bot import BotOptions
from ferbot.classify.devices import use_cpu_cores
from ferbot.console import whole_number
from ferbot.detect import FaceFinder
from ferbot.emotions import CLASS_NAMES
from train.data import DataError, Split
from train.targets import ferplus_majority

STEPS = np.arange(-2.0, 2.001, 0.05)
ROUNDS = 3


class Readings:
    """A checkpoint's log-probabilities on one split, and what a bias does to its accuracy and FER+ agreement."""

    def __init__(self, classifier: EmotionClassifier, split: Split):
        self.log_probabilities = log_probabilities(classifier, split.images)
        self.labels = split.labels
        self.crowd = ferplus_majority(split.ferplus)
        self.voted = self.crowd >= 0

    def scores(self, bias: np.ndarray) -> tuple[float, float]:
        """(accuracy on FER2013's labels, agreement with the FER+ majority) with `bias` added."""
        predicted = (self.log_probabilities + bias).argmax(axis=1)
        return (float((predicted == self.labels).mean()),
                float((predicted[self.voted] == self.crowd[self.voted]).mean()))


def log_probabilities(classifier: EmotionClassifier, faces: np.ndarray) -> np.ndarray:
    """The classifier's log-probabilities of 48x48 faces (what a bias is added to)."""
    return np.log(classifier.predict_proba(faces) + 1e-9)


def fitted_bias(public: Readings, least_accuracy: float) -> np.ndarray:
    """The bias that agrees most with the FER+ crowd on PublicTest while its accuracy stays at `least_accuracy` or
    more (coordinate ascent from no bias, which always qualifies when the floor is the unbiased accuracy or less)."""
    bias = np.zeros(len(CLASS_NAMES))
    for _ in range(ROUNDS):
        for k in range(len(bias)):
            def agreement(value: float, k: int = k) -> float:
                accuracy, crowd = public.scores(np.where(np.arange(len(bias)) == k, value, bias))
                return crowd if accuracy >= least_accuracy else -1.0
            bias[k] = max(STEPS, key=agreement)
    return bias - bias.mean()


def difficult_shares(log_probabilities: np.ndarray, calm: np.ndarray, bias: np.ndarray) -> tuple[float, float]:
    """The shares of calm and of not-calm views read as a difficult state with `bias` added."""
    difficult = np.isin((log_probabilities + bias).argmax(axis=1), DIFFICULT_INDEX)
    return float(difficult[calm].mean()), float(difficult[~calm].mean()) if (~calm).any() else float("nan")


def accuracy_drops(text: str) -> list[float | None]:
    """--drops: comma-separated points of accuracy (0 or more), or 'none'."""
    try:
        drops = [None if drop.strip() == "none" else float(drop) for drop in text.split(",")]
    except ValueError:
        drops = []
    if not drops or any(drop is not None and not drop >= 0 for drop in drops):
        raise argparse.ArgumentTypeError(f"{text!r}: give points of accuracy, 0 or more, or 'none', comma-separated "
                                         "(e.g. 0.5,1,none)")
    return drops


def main() -> None:
    p = benchmark_parser(__doc__)
    add_checkpoint_option(p)
    p.add_argument("--drops", type=accuracy_drops, default="0.5,1,2,none", metavar="POINTS",
                   help="PublicTest accuracy points each fit may give up, comma-separated; 'none' for no floor "
                        "(default: %(default)s)")
    p.add_argument("--seeds", type=whole_number(1), default=2,
                   help="random draws of each calm face's views (default: 2)")
    args = p.parse_args()
    use_cpu_cores()
    path = fer2013_path(p)
    data = official_fer2013(path)
    if data.val.ferplus is None:
        raise DataError(f"{path} lacks the FER+ crowd's votes that the bias is fitted to: use fer2013.npz")
    classifier = EmotionClassifier.load(args.checkpoint, BotOptions.model)
    public, private = Readings(classifier, data.val), Readings(classifier, data.test)
    with FaceFinder() as finder:
        crops, owners, _ = face_crops_in_views(finder, args.seeds)
    calm = np.array([EXPRESSIONS[i] == CALM for i in owners])
    webcam = log_probabilities(classifier, np.stack(crops))
    print(f"{classifier.card.get('name', args.checkpoint)}: {len(crops)} webcam views ({calm.sum()} calm)")
    print(f"{'PublicTest drop allowed':>24s}  {'bias (' + ', '.join(CLASS_NAMES) + ')':60s}  PublicTest acc / FER+  "
          "PrivateTest acc / FER+  calm / not calm read as difficult")
    unbiased = public.scores(np.zeros(len(CLASS_NAMES)))[0]
    fits = {"no bias": np.zeros(len(CLASS_NAMES))}
    for drop in args.drops:
        floor = -1.0 if drop is None else unbiased - drop / 100
        fits["none" if drop is None else f"{drop:g} points"] = fitted_bias(public, floor)
    for allowed, bias in fits.items():
        print(f"{allowed:>24s}  {np.array2string(bias, precision=2):60s}  "
              "{:.1%} / {:.1%}         {:.1%} / {:.1%}          {:.1%} / {:.1%}".format(
                  *public.scores(bias), *private.scores(bias), *difficult_shares(webcam, calm, bias)))


if __name__ == "__main__":
    run_benchmark(main)
