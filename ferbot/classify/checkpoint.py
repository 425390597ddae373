"""Inference checkpoints: `checkpoints/<name>/` = Orbax parameters + a model card.

Written by `python -m train` (export) and read by `EmotionClassifier`; this module is the one place that
knows the layout. Pointer files name the shipped checkpoints: checkpoints/DEFAULT the default (the most accurate on
FER2013, and what EmotionClassifier.load() gives), checkpoints/LITE the lite one for slow laptops,
checkpoints/WEBCAM the one trained for webcam faces (what the bot runs unless told otherwise: BotOptions.model). A
wheel built from the repository carries the checkpoints they name (copied by setup.py) as ferbot/_checkpoints/, laid
out the same way.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from flax import nnx

from ferbot.classify.model import EmotionCNN, ModelConfig, build_model
from ferbot.console import first_line
from ferbot.emotions import CLASS_NAMES, NUM_CLASSES

log = logging.getLogger(__name__)

CHECKPOINTS_DIR = Path(__file__).resolve().parents[2] / "checkpoints"  # in a checkout of the repository
# --model NAME -> the pointer file holding its folder's name
MODELS = {"default": "DEFAULT", "lite": "LITE", "webcam": "WEBCAM"}
PACKAGED_DIR = Path(__file__).resolve().parents[1] / "_checkpoints"  # in an installed wheel
CARD_JSON = "model_card.json"
_WEIGHTS = "weights"
# In the OS's messages, which Orbax passes on (POSIX's ENOSPC, EFBIG, EDQUOT; Windows' ERROR_DISK_FULL and
# ERROR_HANDLE_DISK_FULL).
_DISK_FULL = ("No space left", "File too large", "Disk quota", "not enough space", "disk is full")
# asyncio's first line for a task or other future whose error nobody awaited ("Task", "_GatheringFuture", ...).
_NEVER_RETRIEVED = re.compile(r"\w+ exception was never retrieved")
_hook_before = None  # the unraisable hook before _late_write_hook, once that is installed


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupt or does not fit the model; the message says what to do."""


def shipped_checkpoint_dir(model: str = "default") -> Path:
    """The checkpoint `--model` names (a key of MODELS): the folder its pointer file names in a checkout's
    checkpoints/, else in the installed wheel; ValueError for a name that is not one."""
    if model not in MODELS:
        raise ValueError(f"no shipped model {model!r}: the shipped ones are {', '.join(MODELS)}")
    pointer = MODELS[model]
    for folder in (CHECKPOINTS_DIR, PACKAGED_DIR):
        if (directory := pointed_at(folder / pointer)) is not None:
            return directory
    raise CheckpointError(f"no {model} checkpoint: neither {CHECKPOINTS_DIR / pointer} (a checkout) nor "
                          f"{PACKAGED_DIR / pointer} (an installed wheel) exists; pass "
                          "--checkpoint PATH, reinstall ferbot, or train one with "
                          f"`python -m train --config {model} --promote-to {model}`")


def pointed_at(pointer: Path) -> Path | None:
    """The checkpoint folder a pointer file (checkpoints/DEFAULT, ...) names, beside it; None without the file."""
    try:
        return pointer.parent / pointer.read_text(encoding="utf-8").strip()
    except (OSError, ValueError):  # ValueError: not UTF-8 text
        return None


def checkpoint_folder(name_or_path: str | Path) -> Path:
    """An exported checkpoint's folder: the path as given (a leading ~ is the home folder) where it exists, else a
    name in the checkout's checkpoints/ or among the installed wheel's shipped checkpoints, also written
    checkpoints/NAME (from any working folder), else the path as given (whose loading then says it is missing)."""
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    name = Path(name_or_path)
    if name.parts[:1] == (CHECKPOINTS_DIR.name,) and len(name.parts) > 1:
        name = name.relative_to(CHECKPOINTS_DIR.name)
    if not name.is_absolute():
        for folder in (CHECKPOINTS_DIR, PACKAGED_DIR):
            if (folder / name).exists():
                return folder / name
    return path


def shipped_models() -> dict[str, Path]:
    """The shipped checkpoints found here, by `--model` name (the default always, the others once trained)."""
    found = {}
    for model in MODELS:
        try:
            found[model] = shipped_checkpoint_dir(model)
        except CheckpointError:
            continue
    return found


def save_checkpoint(directory: Path, model: EmotionCNN, card: dict) -> None:
    """Write the model's parameters and batch statistics (nothing else) plus its model card."""
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    variables = nnx.to_pure_dict(nnx.state(model, (nnx.Param, nnx.BatchStat)))
    variables = jax.tree.map(np.asarray, variables)
    try:
        with orbax_quiet(), ocp.StandardCheckpointer() as ckptr:
            ckptr.save(directory / _WEIGHTS, variables, force=True)
    except Exception as err:  # Orbax reports a full disk as TensorStore's ValueError, among others
        raise CheckpointError(f"cannot write {directory / _WEIGHTS} ({first_line(err)[:200]}): "
                              + ("free some space and " if disk_full(err) else "") + "run the same command again"
                              ) from None
    write_card(directory, card)


def disk_full(err: BaseException) -> bool:
    """Whether an error of Orbax (which passes the OS's message on) or of the OS says the disk is full."""
    return any(sign in str(err) for sign in _DISK_FULL)


def write_card(directory: Path, card: dict) -> None:
    """Write the model card, model_card.json (the trainer adds a Markdown summary beside it)."""
    (Path(directory) / CARD_JSON).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")


def read_card(directory: Path) -> dict:
    """The model card of a checkpoint folder."""
    path = Path(directory) / CARD_JSON
    if Path(directory).is_file():
        raise CheckpointError(f"{directory} is a file; a checkpoint is the folder that `python -m train` exported, "
                              "e.g. checkpoints/<name>")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        what = f"no {CARD_JSON}" if Path(directory).is_dir() else "no such folder"
        raise CheckpointError(f"{directory} is not a ferbot checkpoint ({what}); pass the folder "
                              "that `python -m train` exported, e.g. checkpoints/<name>") from None
    except (OSError, ValueError) as err:  # ValueError: not JSON, or not UTF-8 text
        raise CheckpointError(f"{path} is unreadable ({err}); re-export or re-download the checkpoint") from None


def load_checkpoint(directory: Path) -> tuple[EmotionCNN, dict]:
    """An eval-mode model with the checkpoint's weights, and its model card."""
    directory = Path(directory).resolve()
    card = read_card(directory)
    try:
        config = ModelConfig.from_dict(card["architecture"]["config"])
        # shapes only: initialising real weights that are overwritten at once took 8 s of XLA compiling per launch
        model = nnx.eval_shape(lambda: build_model(config))
    except (AttributeError, KeyError, TypeError, ValueError) as err:  # a part missing, or not of its kind
        raise CheckpointError(f"{directory / CARD_JSON} has no usable architecture ({err}); re-export it") from None
    if config.num_classes != NUM_CLASSES:
        raise CheckpointError(f"{directory} tells {config.num_classes} classes apart; ferbot needs a model of "
                              f"the {NUM_CLASSES} FER2013 emotions: use another checkpoint")
    names = card.get("class_names", list(CLASS_NAMES))
    if not isinstance(names, list) or tuple(names) != CLASS_NAMES:  # another order would mislabel every face
        raise CheckpointError(f"{directory}'s model card names its classes {names}, not FER2013's "
                              f"{list(CLASS_NAMES)} in that order; use a checkpoint that `python -m train` exported")
    if not (directory / _WEIGHTS).is_dir():
        raise CheckpointError(f"{directory} has a model card but no {_WEIGHTS}/ folder; re-export it or use "
                              "another checkpoint")
    target = nnx.to_pure_dict(nnx.state(model, (nnx.Param, nnx.BatchStat)))
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    try:
        with orbax_quiet(), ocp.StandardCheckpointer() as ckptr:
            _check_shapes(ckptr.metadata(directory / _WEIGHTS), abstract, directory)
            variables = ckptr.restore(directory / _WEIGHTS, abstract)
    except CheckpointError:
        raise
    except Exception as err:  # Orbax raises many types for missing, truncated or mismatched files
        raise CheckpointError(f"cannot load weights from {directory / _WEIGHTS}: "
                              f"{first_line(err)[:200]}; the checkpoint is corrupt or does not match "
                              "its model card: re-export it or use another checkpoint") from None
    nnx.update(model, variables)
    model.eval()
    return model, card


@contextmanager
def orbax_quiet():
    """Orbax's own log lines (absl's logger) left out while a checkpoint loads or saves: a damaged one printed its
    parse errors before the one line of CheckpointError that says what to do. Also, from then on, the late errors
    of a failed save's other writes (_quiet_late_write_errors)."""
    _quiet_late_write_errors()
    absl = logging.getLogger("absl")
    level = absl.level
    absl.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        absl.setLevel(level)


def _quiet_late_write_errors() -> None:
    """Once per process, for every save from then on: the late errors of a failed save's other writes at debug
    level (_late_write_hook as sys.unraisablehook, _unretrieved_write_error on asyncio's logger)."""
    global _hook_before
    if _hook_before is None:  # once: a hook installed later that hands errors on to this one must not loop
        _hook_before, sys.unraisablehook = sys.unraisablehook, _late_write_hook
        logging.getLogger("asyncio").addFilter(_unretrieved_write_error)


def _late_write_hook(unraisable) -> None:
    """sys.unraisablehook that logs at debug level the errors of TensorStore writes which end after Orbax gave up
    on a failed save (a full disk: dozens of "Event loop is closed" tracebacks after the one line that says what
    to do), and hands every other unraisable error to the hook before it."""
    if _late_write_callback(unraisable):
        log.debug("a checkpoint write ended after its save had failed: %s", unraisable.exc_value)
    else:
        _hook_before(unraisable)


def _late_write_callback(unraisable) -> bool:
    """Whether an unraisable error is TensorStore's call into an asyncio loop already closed: no object, and a
    RuntimeError raised by the loop's call_soon_threadsafe itself, called from native code."""
    error, frames = unraisable.exc_value, traceback.extract_tb(unraisable.exc_traceback)
    return (unraisable.object is None and isinstance(error, RuntimeError) and str(error) == "Event loop is closed"
            and bool(frames) and frames[0].name == "call_soon_threadsafe")


def _unretrieved_write_error(record: logging.LogRecord) -> bool:
    """A filter for asyncio's logger: its "Task exception was never retrieved" (or "_GatheringFuture ...", for
    writes gathered together) for a failure in Orbax's code goes to debug level instead. When one write of a save
    fails (a full disk), Orbax raises that one error, which CheckpointError reports in one line; the other writes'
    errors, never awaited, came after it as more tracebacks once their tasks were collected."""
    error = record.exc_info[1] if record.exc_info else None
    lost_in_orbax = (error is not None and _NEVER_RETRIEVED.match(record.getMessage()) is not None
                     and any("orbax" in Path(frame.filename).parts
                             for frame in traceback.extract_tb(error.__traceback__)))
    if lost_in_orbax:
        log.debug("an Orbax task failed after the checkpoint operation that started it: %s", first_line(error))
    return not lost_in_orbax


def _check_shapes(metadata, abstract: dict, directory: Path) -> None:
    """Compare the stored arrays' shapes with the card's architecture before reading any (Orbax's own
    mismatch error comes with pages of unawaited-read noise)."""
    tree = getattr(metadata, "item_metadata", metadata)  # orbax 0.12 wraps the tree in a StepMetadata
    stored = {_name(k): tuple(a.shape) for k, a in jax.tree_util.tree_leaves_with_path(tree)}
    for key, array in jax.tree_util.tree_leaves_with_path(abstract):
        name, needed = _name(key), tuple(array.shape)
        if stored.get(name) != needed:
            found = f"stored as {stored[name]}" if name in stored else "missing"
            raise CheckpointError(f"{directory} does not match its model card: weight {name} is {found}, the "
                                  f"card's architecture needs {needed}; re-export it or use another "
                                  "checkpoint")


def _name(key_path) -> str:
    """'blocks/0/conv/kernel': the same for the stored tree (string keys) and the model's (list indices)."""
    return jax.tree_util.keystr(key_path, simple=True, separator="/")
