"""The model card of an exported checkpoint: what was trained, how, on what data, and how well it does.

The bot reads only `model_card.json` (through ferbot.classify.checkpoint); `MODEL_CARD.md` is its summary for
people, written here by the trainer.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import platform
from pathlib import Path

import flax
import jax
import optax

from ferbot.classify.checkpoint import write_card
from ferbot.classify.model import EmotionCNN, ModelConfig, count_params, flops_per_face
from ferbot.emotions import CLASS_NAMES
from train.config import TrainConfig
from train.data import FER2013
from train.loop import FitResult

CARD_MD = "MODEL_CARD.md"


def make_card(model: EmotionCNN, result: FitResult, cfg: TrainConfig, recipe: str, data: FER2013, name: str,
              command: str) -> dict:
    """The card of a freshly trained model, before its evaluation adds "metrics"."""
    best = max(result.history, key=lambda r: r["val_accuracy"])
    return {
        "name": name,
        "summary": "FER2013 7-class facial-emotion CNN for ferbot (FER Cam), "
                   f"{f'fine-tuned from {cfg.init}' if cfg.init else 'trained from scratch'} with JAX/Flax "
                   f"NNX/Optax; {split_protocol(data.official_split)}",
        "class_names": list(CLASS_NAMES),
        "preprocessing": "48x48 grayscale face crop (uint8, FER2013 framing), standardised per image "
                         "inside the model",
        "architecture": {"description": architecture_description(cfg.model),
                         "config": dataclasses.asdict(cfg.model),
                         "parameters": count_params(model), "flops_per_face": flops_per_face(model)},
        "training": {"recipe": recipe, "config": cfg.to_dict(), "best_epoch": best["epoch"],
                     "history": result.history},
        "command": command,
        "data": {"source": os.path.basename(data.source), "official_split": data.official_split,
                 "fingerprint": data.fingerprint(),
                 "sizes": {"train": len(data.train), "PublicTest": len(data.val), "PrivateTest": len(data.test)}},
        "wall_time_s": round(result.wall_time_s, 1),
        "hardware": hardware_description(),
        "software": {"jax": jax.__version__, "flax": flax.__version__, "optax": optax.__version__},
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def architecture_description(config: ModelConfig) -> str:
    """The card's one-line description of the network `config` builds (ferbot.classify.model.EmotionCNN), e.g.
    'VGG-style CNN: 4 stages (32, 64, 160, 320 channels) of 2 x 3x3 conv+BN+ReLU, 2x2 max-pool; dense head (256)'."""
    excite = f", squeeze-and-excitation (reduction {config.squeeze_excite})" if config.squeeze_excite else ""
    return (f"VGG-style CNN: {len(config.widths)} stages ({', '.join(map(str, config.widths))} channels) of "
            f"{config.convs_per_stage} x 3x3 conv+BN+ReLU, 2x2 max-pool{excite}; dense head ({config.dense})")


def split_protocol(official_split: bool) -> str:
    """What the card's "PublicTest" and "PrivateTest" hold: FER2013's official splits, or, for a release without
    them, a validation set carved out of Training and the whole test folder."""
    if official_split:
        return "selected on PublicTest, reported on PrivateTest."
    return ("selected on a validation set carved out of Training (its figures under 'PublicTest'), reported on the "
            "test folder, PublicTest and PrivateTest together (under 'PrivateTest'): the data had no official "
            "split, so its figures are not comparable with published FER2013 ones.")


def hardware_description() -> str:
    """Processor and JAX devices, e.g. 'x86_64, 2 CPU cores; JAX 0.8.0: 2 x cpu (cpu)'."""
    devices = jax.devices()
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores; JAX {jax.__version__}: "
            f"{len(devices)} x {devices[0].device_kind} ({devices[0].platform})")


def write_model_card(directory: Path, card: dict) -> None:
    """Write the card as model_card.json (what the bot reads) and as MODEL_CARD.md (its summary for people)."""
    write_card(directory, card)
    (Path(directory) / CARD_MD).write_text(card_markdown(card), encoding="utf-8")


def card_markdown(card: dict) -> str:
    """A short Markdown summary of a card made by make_card(), with a table of its metrics."""
    arch, data, recipe = card["architecture"], card["data"], card["training"]["recipe"]
    lines = [f"# Model card: {card['name']}", "",
             card["summary"], "",
             f"- Classes: {', '.join(card['class_names'])}",
             f"- Input: {card['preprocessing']}",
             f"- Architecture: {arch['description']} ({arch['parameters']:,} parameters, "
             f"{arch.get('flops_per_face', float('nan')) / 1e6:.0f} MFLOP per face)",
             f"- Recipe: `{recipe}` (train/configs/{recipe}.py)",
             f"- Trained with: `{card['command']}`",
             f"- Hardware: {card['hardware']}; wall time {card['wall_time_s'] / 60:.1f} min",
             f"- Data: {data['source']} (fingerprints {data['fingerprint']})", ""]
    metrics = card.get("metrics", {})
    if metrics:
        lines += ["| split | TTA | accuracy | macro-F1 |", "|---|---|---|---|"]
        for split, by_tta in metrics.items():
            for tta, m in by_tta.items():
                lines.append(f"| {split} | {tta} | {m['accuracy']:.2%} | {m['macro_f1']:.3f} |")
        lines.append("")
    return "\n".join(lines)
