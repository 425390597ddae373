"""Export the best trained weights as an inference checkpoint with its model card, then evaluate it."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import platform
from pathlib import Path

import flax
import jax
import optax

from ferbot.classify.checkpoint import (CHECKPOINTS_DIR, DEFAULT_POINTER, CheckpointError, read_card, save_checkpoint,
                               write_card)
from ferbot.classify.classifier import EmotionClassifier
from ferbot.emotions import CLASS_NAMES
from ferbot.classify.model import count_params
from train.config import TrainConfig
from train.data import FER2013
from train.evaluate import TTA_MODES, evaluate_splits
from train.loop import FitResult

log = logging.getLogger(__name__)


def hardware_description() -> str:
    """Processor and JAX devices, e.g. 'x86_64, 2 CPU cores; JAX: 1 x cpu'."""
    devices = jax.devices()
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores; JAX {jax.__version__}: "
            f"{len(devices)} x {devices[0].device_kind} ({devices[0].platform})")


def export_checkpoint(result: FitResult, cfg: TrainConfig, data: FER2013, name: str, command: str,
                      out_root: Path = CHECKPOINTS_DIR, tta_modes=TTA_MODES,
                      promote: bool = True) -> Path:
    """Write checkpoints/<name>/ (weights, model card, metrics, confusion matrices); maybe make it default."""
    model = result.trainer.model_from(result.best_state)
    best = max(result.history, key=lambda r: r["val_accuracy"])
    card = {
        "name": name,
        "summary": "FER2013 7-class facial-emotion CNN for ferbot (FER Cam), trained from scratch with "
                   "JAX/Flax NNX/Optax; selected on PublicTest, reported on PrivateTest.",
        "class_names": list(CLASS_NAMES),
        "preprocessing": "48x48 grayscale face crop (uint8, FER2013 framing), standardised per image "
                         "inside the model",
        "architecture": {"description": "VGG-style CNN: stages of 3x3 conv+BN+ReLU, 2x2 max-pool, dense head",
                         "config": dataclasses.asdict(cfg.model),
                         "parameters": count_params(model)},
        "training": {"config": cfg.to_dict(), "best_epoch": best["epoch"], "history": result.history},
        "command": command,
        "data": {"source": os.path.basename(data.source), "official_split": data.official_split,
                 "fingerprint": data.fingerprint(),
                 "sizes": {"train": len(data.train), "PublicTest": len(data.val), "PrivateTest": len(data.test)}},
        "wall_time_s": round(result.wall_time_s, 1),
        "hardware": hardware_description(),
        "software": {"jax": jax.__version__, "flax": flax.__version__, "optax": optax.__version__},
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    directory = Path(out_root) / name
    save_checkpoint(directory, model, card)
    card["metrics"] = evaluate_checkpoint(directory, data, tta_modes)
    write_card(directory, card)
    log.info("exported %s (%d parameters)", directory, card["architecture"]["parameters"])
    if promote:
        maybe_promote(directory, Path(out_root))
    return directory


def evaluate_checkpoint(directory: Path, data: FER2013, tta_modes) -> dict:
    """PublicTest and PrivateTest metrics of an exported checkpoint; plots and metrics.json go beside it."""
    classifier = EmotionClassifier.load(directory)
    return evaluate_splits(classifier.predict_proba, {"PublicTest": data.val, "PrivateTest": data.test},
                           tta_modes, out_dir=directory)


def maybe_promote(directory: Path, out_root: Path) -> None:
    """Point checkpoints/DEFAULT at `directory` if it beats the current default on PublicTest."""
    pointer = out_root / DEFAULT_POINTER.name
    new_acc = read_card(directory)["metrics"]["PublicTest"]["none"]["accuracy"]
    try:
        current = out_root / pointer.read_text().strip()
        old_acc = read_card(current)["metrics"]["PublicTest"]["none"]["accuracy"]
    except (OSError, CheckpointError, KeyError):
        current, old_acc = None, -1.0
    if current is not None and current.resolve() != directory.resolve() and new_acc <= old_acc:
        log.info("kept default %s: its PublicTest accuracy %.2f%% >= %.2f%%", current.name, 100 * old_acc,
                 100 * new_acc)
        return
    pointer.write_text(directory.name + "\n")
    log.info("%s is now the default checkpoint (PublicTest %.2f%%)", directory.name, 100 * new_acc)
