"""Export the best trained weights as an inference checkpoint with its model card, then evaluate it."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from ferbot.classify.checkpoint import CHECKPOINTS_DIR, MODELS, CheckpointError, pointed_at, read_card, save_checkpoint
from ferbot.classify.classifier import EmotionClassifier
from ferbot.files import written_whole
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
    that name into `set_aside_in`; make it the shipped `promote_to` model (a key of MODELS) if it beats the
    current one. Returns where the export lies.

    The export is written and evaluated in `set_aside_in` and put in place whole (_swap_in), so a stop on the way
    leaves checkpoints/ as it was. An earlier export that a pointer names (a shipped model) stays in place unless this
    one takes its place as `promote_to` by beating it on PublicTest; otherwise this export stays in `set_aside_in`.
    """
    model = result.trainer.model_from(result.best_state)
    card = make_card(model, result, cfg, recipe, data, name, command)
    out_root, set_aside_in = Path(out_root), Path(set_aside_in)
    staging = set_aside_in / f".{name}-exporting"
    if staging.exists():
        shutil.rmtree(staging)  # an export stopped before it ended
    save_checkpoint(staging, model, card)
    card["metrics"] = evaluate_checkpoint(staging, data, tta_modes)
    write_model_card(staging, card)
    directory = out_root / name
    _undo_a_stopped_swap(directory)
    shipped_as = {key for key, pointer in MODELS.items() if _names(out_root / pointer, directory)}
    replaces = shipped_as == {promote_to} and _beats(staging, directory, promote_to)
    if directory.exists() and shipped_as and not replaces:
        log.warning("kept %s as the shipped %s model: this export does not beat it on PublicTest or is not "
                    "promoted to it", directory.name, " and ".join(sorted(shipped_as)))
        return set_aside(staging, set_aside_in, name, "this run's export")
    _swap_in(staging, directory, set_aside_in)
    log.info("exported %s (%d parameters)", directory, card["architecture"]["parameters"])
    if promote_to is not None:
        maybe_promote(directory, out_root, promote_to)
    return directory


def _outgoing(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}-outgoing")


def _undo_a_stopped_swap(directory: Path) -> None:
    """Put back an export that a stop left renamed between _swap_in's two renames (its name missing), so that it
    is judged as the export of that name again (a shipped one is kept unless beaten)."""
    if not directory.exists() and _outgoing(directory).exists():
        _outgoing(directory).rename(directory)
        log.warning("%s: put back, after an export stopped while replacing it", directory)


def _swap_in(staging: Path, directory: Path, set_aside_in: Path) -> None:
    """Put `staging` in `directory`'s place, an earlier export there into `set_aside_in`. The new export is first
    moved beside `directory` (a copy, when the runs folder is on another disk), then takes its place by two renames
    on one disk, so a stop or a full disk never leaves a checkpoint half copied, and its name is missing only
    between the renames (_undo_a_stopped_swap puts it back)."""
    incoming, outgoing = directory.with_name(f".{directory.name}-incoming"), _outgoing(directory)
    if incoming.exists():
        shutil.rmtree(incoming)  # a copy a stop cut short (the export is made again each time)
    if outgoing.exists():  # an earlier export whose replacement ended after the first rename: never lost
        set_aside(outgoing, set_aside_in, directory.name, "an earlier export of this name, left by a stop")
    shutil.move(staging, incoming)
    if directory.exists():
        directory.rename(outgoing)
    incoming.rename(directory)
    if outgoing.exists():
        set_aside(outgoing, set_aside_in, directory.name, "an earlier export of this name")


def set_aside(directory: Path, folder: Path, name: str, what: str) -> Path:
    """Move an export (`what`, for the log) into `folder` as NAME-<time>; say where."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if kept.exists():
        kept = kept.with_name(kept.name + "-new")
    shutil.move(directory, kept)
    log.warning("%s (%s): moved to %s", name, what, kept)
    return kept


def _names(pointer: Path, directory: Path) -> bool:
    """Whether a pointer file (checkpoints/DEFAULT, ...) names `directory`."""
    named = pointed_at(pointer)
    return named is not None and named.resolve() == directory.resolve()


def evaluate_checkpoint(directory: Path, data: FER2013, tta_modes) -> dict:
    """PublicTest and PrivateTest metrics of an exported checkpoint, plain (which promotion compares) and with
    `tta_modes`; plots and metrics.json go beside it."""
    classifier = EmotionClassifier.load(directory)
    modes = ("none", *(mode for mode in tta_modes if mode != "none"))
    return evaluate_splits(classifier.predict_proba, {"PublicTest": data.val, "PrivateTest": data.test},
                           modes, out_dir=directory)


# What each shipped model is picked by on PublicTest (plain): FER2013's labels, except for `webcam`, which is there
# for calm webcam faces: it trades FER2013 accuracy for agreement with the FER+ crowd, the better of the two references.
YARDSTICKS = {"default": "accuracy", "lite": "accuracy", "webcam": "FER+ agreement"}
LITE_MAX_COST = 0.25  # a lite checkpoint costs at most this share of the default's FLOPs per face


def _public_card(directory: Path, model: str) -> dict | None:
    """A checkpoint's card where it has `model`'s yardstick on PublicTest; None otherwise."""
    try:
        card = read_card(directory)
    except CheckpointError:
        return None
    return card if _has_yardstick(card, model) else None


def _has_yardstick(card: dict, model: str) -> bool:
    """Whether a card records `model`'s yardstick on PublicTest."""
    try:
        _yardstick(card, model)
    except (KeyError, TypeError):
        return False
    return True


def _yardstick(card: dict, model: str) -> float:
    """The plain PublicTest figure a checkpoint's card records that `model`'s promotion compares (YARDSTICKS)."""
    plain = card["metrics"]["PublicTest"]["none"]
    return plain["ferplus_agreement"]["accuracy"] if YARDSTICKS[model] == "FER+ agreement" else plain["accuracy"]


def _beats(directory: Path, other: Path, model: str) -> bool:
    """Whether `directory` is better than `other` as `model` on PublicTest (YARDSTICKS); only on the same, official
    PublicTest (an image-folder release without it carves its validation out of Training), and always over a
    checkpoint that has no such figure."""
    new, old = _public_card(directory, model), _public_card(other, model)
    if old is None:
        return True
    if new is None or not all(card.get("data", {}).get("official_split") for card in (new, old)) \
            or new["data"].get("fingerprint", {}).get("val") != old["data"].get("fingerprint", {}).get("val"):
        log.info("%s and %s were not validated on the same official PublicTest: not compared", directory.name,
                 other.name)
        return False
    return _yardstick(new, model) > _yardstick(old, model)


def maybe_promote(directory: Path, out_root: Path, model: str = "default") -> None:
    """Point `model`'s pointer file (checkpoints/DEFAULT, LITE or WEBCAM) at `directory` if it beats the checkpoint it
    names on PublicTest (_beats); a lite one only at most LITE_MAX_COST of the default's FLOPs per face."""
    pointer = out_root / MODELS[model]
    current = pointed_at(pointer)
    card = read_card(directory)
    if not _has_yardstick(card, model):
        log.warning("not made the %s checkpoint: %s has no PublicTest %s", model, directory.name, YARDSTICKS[model])
        return
    figure = f"PublicTest {YARDSTICKS[model]} {100 * _yardstick(card, model):.2f}%"
    if model == "lite" and not _light_enough(card, out_root):
        return
    if current is not None and current.resolve() != directory.resolve() and not _beats(directory, current, model):
        log.info("kept %s %s: %s (%s) does not beat it", model, current.name, directory.name, figure)
        return
    with written_whole(pointer) as draft:  # never an empty pointer, whatever stops the write
        draft.write_text(directory.name + "\n", encoding="utf-8")
    log.info("%s is now the %s checkpoint (%s)", directory.name, model, figure)


def _light_enough(card: dict, out_root: Path) -> bool:
    """Whether a checkpoint costs at most LITE_MAX_COST of the default's FLOPs per face; a warning where not."""
    default = pointed_at(out_root / MODELS["default"])
    if default is None:  # no default to compare with
        return True
    try:
        share = card["architecture"]["flops_per_face"] / read_card(default)["architecture"]["flops_per_face"]
    except (CheckpointError, KeyError, TypeError):  # a card without costs (or an unreadable one): nothing to compare
        return True
    if share <= LITE_MAX_COST:
        return True
    log.warning("not made the lite checkpoint: %s costs %.2f of the default's FLOPs per face (at most %.2f)",
                card.get("name", "this export"), share, LITE_MAX_COST)
    return False
