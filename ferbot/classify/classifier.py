"""EmotionClassifier: the jitted inference API used by the bot and by evaluation."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
from flax import nnx

from ferbot.classify.checkpoint import default_checkpoint_dir, load_checkpoint
from ferbot.emotions import CLASS_NAMES, FACE_SIZE

# Batches are padded up to one of these sizes so a new face count never triggers a recompile; steps of 8
# keep the padding waste small for gallery-sized batches. Larger inputs run in chunks of the largest size.
BATCH_BUCKETS = (1, 4, 8, 16, 24, 32, 40, 48, 56, 64)


class EmotionClassifier:
    """7-class facial-emotion classifier over 48x48 grayscale face crops."""

    class_names: tuple[str, ...] = CLASS_NAMES

    def __init__(self, model, card: dict):
        self.card = card
        model.eval()
        graphdef, variables = nnx.split(model)
        self._variables = variables
        self._forward = jax.jit(lambda v, x: jax.nn.softmax(nnx.merge(graphdef, v)(x)))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "EmotionClassifier":
        """Load a checkpoint folder; the shipped default when `path` is None."""
        model, card = load_checkpoint(Path(path) if path is not None else default_checkpoint_dir())
        return cls(model, card)

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """uint8 grayscale crops (N, 48, 48) -> float32 (N, 7) class probabilities (FER2013 order)."""
        faces = np.asarray(faces)
        if faces.ndim != 3 or faces.shape[1:] != (FACE_SIZE, FACE_SIZE):
            raise ValueError(f"expected faces shaped (N, {FACE_SIZE}, {FACE_SIZE}), got {faces.shape}")
        out = np.empty((len(faces), len(CLASS_NAMES)), np.float32)
        chunk = BATCH_BUCKETS[-1]
        for start in range(0, len(faces), chunk):
            part = faces[start:start + chunk]
            size = next(b for b in BATCH_BUCKETS if b >= len(part))
            padded = np.zeros((size, FACE_SIZE, FACE_SIZE), np.uint8)
            padded[: len(part)] = part
            out[start:start + len(part)] = np.asarray(self._forward(self._variables, padded))[: len(part)]
        return out

    def warmup(self) -> None:
        """Compile every batch bucket now rather than on the first live frames."""
        for size in BATCH_BUCKETS:
            self.predict_proba(np.zeros((size, FACE_SIZE, FACE_SIZE), np.uint8))
