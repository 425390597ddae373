"""Weight averaging ("model soups", Wortsman et al. 2022) of checkpoints fine-tuned from one parent: does the mean
of their weights read FER2013 better than the best of them, at no cost per face?

    python -m benchmarks.weight_soup CHECKPOINT CHECKPOINT [CHECKPOINT ...]

The checkpoints must share one architecture and should share a parent (`python -m train --init`): weights of
networks trained apart do not average. Every figure is on PublicTest, the split checkpoints are picked on;
PrivateTest is never read. Printed: each checkpoint alone; the greedy soup (from the best alone, each next-best
checkpoint joins the uniform mean when PublicTest does not fall); and the uniform mean of all of them. Weights and
batch-norm statistics are averaged alike. The greedy soup is chosen on the split it is read on, so its figure
flatters it: a soup that beat its best ingredient here would need confirming on data not used to choose it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from benchmarks.command import benchmark_parser, fer2013_path, official_fer2013, run_benchmark
from ferbot import EmotionClassifier
from ferbot.classify.checkpoint import CheckpointError, load_checkpoint
from ferbot.classify.devices import use_cpu_cores
from train.data import Split
from train.evaluate import predict_with_tta, split_metrics


class Soup:
    """Checkpoints' weights, and the PublicTest reading of the uniform mean of any subset of them."""

    def __init__(self, folders: list[Path], split: Split):
        loaded = [load_checkpoint(folder) for folder in folders]
        for folder, (model, _) in zip(folders[1:], loaded[1:]):
            if model.config != loaded[0][0].config:  # the configs read, so that a field left at its default counts
                raise CheckpointError(f"{folder} is another network than {folders[0]}: only weights of one "
                                      "architecture average (fine-tunes of one parent, python -m train --init)")
        self.names = [folder.name for folder in folders]
        self.split = split
        self._model, self._card = loaded[0]
        self._weights = [nnx.to_pure_dict(nnx.state(model, (nnx.Param, nnx.BatchStat))) for model, _ in loaded]

    def accuracy(self, members: list[int]) -> float:
        """PublicTest accuracy (plain) of the mean of `members`' weights; prints it, with the agreement with the
        FER+ crowd's majority where the data has the votes."""
        mean = jax.tree.map(lambda *arrays: np.mean([np.asarray(a) for a in arrays], axis=0),
                            *[self._weights[i] for i in members])
        nnx.update(self._model, mean)
        probabilities = predict_with_tta(EmotionClassifier(self._model, self._card).predict_proba, self.split.images)
        metrics = split_metrics(probabilities, self.split)
        ferplus = f"  FER+ {metrics['ferplus_agreement']['accuracy']:6.2%}" if "ferplus_agreement" in metrics else ""
        print(f"  {metrics['accuracy']:7.2%}{ferplus}  {' + '.join(self.names[i] for i in members)}", flush=True)
        return metrics["accuracy"]


def greedy(soup: Soup, alone: list[float]) -> list[int]:
    """The greedy soup: best alone first, then each next-best that does not lower PublicTest accuracy."""
    order = sorted(range(len(alone)), key=lambda i: -alone[i])
    members, best = order[:1], alone[order[0]]
    for candidate in order[1:]:
        accuracy = soup.accuracy(members + [candidate])
        if accuracy >= best:
            members, best = members + [candidate], accuracy
    return members


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("checkpoints", nargs="+", type=Path, help="checkpoint folders (python -m train exports)")
    args = parser.parse_args()
    if len(args.checkpoints) < 2:
        parser.error("give at least two checkpoints to average")
    path = fer2013_path(parser)
    use_cpu_cores()
    logging.basicConfig(level=logging.WARNING)
    soup = Soup(args.checkpoints, official_fer2013(path).val)
    print("PublicTest, plain; each alone:")
    alone = [soup.accuracy([i]) for i in range(len(args.checkpoints))]
    print("greedy soup, step by step:")
    members = greedy(soup, alone)
    print(f"greedy soup: {' + '.join(soup.names[i] for i in members)}")
    print("uniform soup of all:")
    soup.accuracy(list(range(len(args.checkpoints))))


if __name__ == "__main__":
    run_benchmark(main)
