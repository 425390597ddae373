"""Export the best trained weights as an inference checkpoint with its model card, then evaluate it."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from ferbot.classify.checkpoint import CHECKPOINTS_DIR, MODELS, CheckpointError, read_card, save_checkpoint
from ferbot.classify.classifier import EmotionClassifier
from train.config import TrainConfig
from train.data import FER2013
from train.evaluate import TTA_MODES, evaluate_splits
from train.loop import FitResult
from train.model_card import make_card, write_model_card

log = logging.getLogger(__name__)


def export_checkpoint(result: FitResult, cfg: TrainConfig, recipe: str, data: FER2013, name: str, command: str, *,
                      set_aside_in: Path, out_root: Path = CHECKPOINTS_DIR, tta_modes=TTA_MODES,
                      promote_to: str | None = "default") -> Path:
    """Write checkpoints/<name>/ (weights, model card, metrics, confusion matrices), moving an earlier export of
    that name into `set_aside_in` first; make it the shipped `promote_to` model (a key of MODELS) if it beats the
    current one."""
    model = result.trainer.model_from(result.best_state)
    card = make_card(model, result, cfg, recipe, data, name, command)
    directory = Path(out_root) / name
    if directory.exists():
        set_aside(directory, Path(set_aside_in))
    save_checkpoint(directory, model, card)
    card["metrics"] = evaluate_checkpoint(directory, data, tta_modes)
    write_model_card(directory, card)
    log.info("exported %s (%d parameters)", directory, card["architecture"]["parameters"])
    if promote_to is not None:
        maybe_promote(directory, Path(out_root), promote_to)
    return directory


def set_aside(directory: Path, folder: Path) -> Path:
    """Move an earlier export out of the way into `folder`, named with the time it was moved; say where."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{directory.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    shutil.move(directory, kept)
    log.warning("%s existed (an earlier export of this name): moved to %s; move it back to undo", directory, kept)
    return kept


def evaluate_checkpoint(directory: Path, data: FER2013, tta_modes) -> dict:
    """PublicTest and PrivateTest metrics of an exported checkpoint; plots and metrics.json go beside it."""
    classifier = EmotionClassifier.load(directory)
    return evaluate_splits(classifier.predict_proba, {"PublicTest": data.val, "PrivateTest": data.test},
                           tta_modes, out_dir=directory)


def maybe_promote(directory: Path, out_root: Path, model: str = "default") -> None:
    """Point `model`'s pointer file (checkpoints/DEFAULT or LITE) at `directory` if it beats the checkpoint it
    names on PublicTest."""
    pointer = out_root / MODELS[model]
    new_acc = read_card(directory)["metrics"]["PublicTest"]["none"]["accuracy"]
    try:
        current = out_root / pointer.read_text().strip()
        old_acc = read_card(current)["metrics"]["PublicTest"]["none"]["accuracy"]
    except (OSError, CheckpointError, KeyError):
        current, old_acc = None, -1.0
    if current is not None and current.resolve() != directory.resolve() and new_acc <= old_acc:
        log.info("kept %s %s: its PublicTest accuracy %.2f%% >= %.2f%%", model, current.name, 100 * old_acc,
                 100 * new_acc)
        return
    pointer.write_text(directory.name + "\n")
    log.info("%s is now the %s checkpoint (PublicTest %.2f%%)", directory.name, model, 100 * new_acc)
