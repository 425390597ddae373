"""Teachers for distillation: exported checkpoints whose averaged flip-TTA predictions on Training become part of
the training target (`teachers`, `teacher_weight` in TrainConfig).

The predictions are computed once, at a run's start, and cached in the run folder with what they were computed
from (the teachers' folders and model-card fingerprints, the Training split's fingerprint); the run's saved state
records that key. One run trains towards one set of predictions: a resumed run reuses its cache without reading
the teachers (they may have moved, or the run folder been copied to another machine), and where the cache is gone
it predicts again only from the same teachers, refusing to go on when one has been re-exported since.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from ferbot.classify.checkpoint import CARD_JSON, CheckpointError
from ferbot.classify.classifier import EmotionClassifier
from ferbot.emotions import CLASS_NAMES
from ferbot.files import written_whole
from train.config import ConfigError
from train.data import Split
from train.evaluate import predict_with_tta
from train.run_folder import REMEDY, RunMismatch
from train.step import exported_checkpoint

log = logging.getLogger(__name__)

CACHE = "teachers.npz"


def check_teachers(teachers: tuple[str, ...]) -> list[Path]:
    """The teachers' checkpoint folders; ConfigError when there are none, or for one that is not an exported
    checkpoint (as --init's)."""
    if not teachers:
        raise ConfigError("--teacher-weight needs --teachers: the exported checkpoints to distil from")
    return [exported_checkpoint("--teachers", given) for given in teachers]


def load_teachers(teachers: tuple[str, ...]) -> list[tuple[Path, EmotionClassifier]]:
    """The teachers' checkpoint folders and their classifiers, loaded; ConfigError naming --teachers for one that is
    not an exported checkpoint or whose weights cannot be read."""
    loaded = []
    for given, folder in zip(teachers, check_teachers(teachers)):
        try:
            loaded.append((folder, EmotionClassifier.load(folder)))
        except CheckpointError as err:
            raise ConfigError(f"--teachers {given}: {err}") from None
    return loaded


def teacher_predictions(teachers: tuple[str, ...], train: Split, run_dir: Path, trained_towards: str | None = None
                        ) -> tuple[np.ndarray, str]:
    """(N, 7) mean flip-TTA class probabilities of the teachers (checkpoint folders or names, as --teachers takes
    them) on the Training images, and the key of what they were computed from. `trained_towards`: the key a resumed
    run recorded (None for a new run), whose cached predictions are returned without reading the teachers. Otherwise
    the teachers are checked (ConfigError, as load_teachers) and the cache is used when it was made from the same
    teachers and images; RunMismatch when a resumed run's teachers or images have changed since."""
    cache = Path(run_dir) / CACHE
    cached = _cached(cache)
    if trained_towards is not None and cached is not None and cached[0] == trained_towards:
        _check_same_images(trained_towards, train, run_dir)
        log.info("the teachers' predictions: from %s, made when the run started", cache)
        return cached[1], trained_towards
    folders = check_teachers(teachers)
    key = json.dumps({"teachers": [_fingerprint(f) for f in folders], "train": train.fingerprint()})
    if trained_towards is not None and trained_towards != key:
        raise RunMismatch(f"{run_dir} was trained towards teachers that have been re-exported since (their "
                          f"predictions were made from other weights), and its cache of their predictions is gone; "
                          f"{REMEDY}")
    if cached is not None and cached[0] == key:
        return cached[1], key
    probabilities = np.zeros((len(train), len(CLASS_NAMES)), np.float32)
    for folder, teacher in load_teachers(teachers):
        log.info("teacher %s: predicting the %d Training images (flip TTA)", folder.name, len(train))
        probabilities += predict_with_tta(teacher.predict_proba, train.images, "flip")
    probabilities /= len(folders)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(cache) as draft, draft.open("wb") as file:  # a file: np.savez adds no .npz to its name
        np.savez(file, probabilities=probabilities, key=np.array(key))
    return probabilities, key


def _check_same_images(key: str, train: Split, run_dir: Path) -> None:
    """RunMismatch unless the cached predictions (their key) were made on these Training images."""
    if json.loads(key)["train"] != train.fingerprint():
        raise RunMismatch(f"{run_dir}'s cached teacher predictions were made on other Training images; {REMEDY}")


def _cached(cache: Path) -> tuple[str, np.ndarray] | None:
    """The cache's key and probabilities; None when there is none, or one that cannot be read (made again)."""
    if not cache.exists():
        return None
    try:
        with np.load(cache, allow_pickle=False) as saved:
            return str(saved["key"]), saved["probabilities"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        log.warning("%s cannot be read (%s): predicting again", cache, err)
        return None


def _fingerprint(folder: Path) -> str:
    """The checkpoint's name and a hash of its model card (which changes with every export)."""
    card = (folder / CARD_JSON).read_bytes()
    return f"{folder.name}:{hashlib.sha256(card).hexdigest()[:12]}"
