"""EmotionClassifier: the jitted inference API used by the bot and by evaluation."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np
from flax import nnx

from ferbot.classify.checkpoint import (
    MODELS,
    CheckpointError,
    checkpoint_folder,
    load_checkpoint,
    shipped_checkpoint_dir,
)
from ferbot.classify.devices import batch_sharding, data_mesh, replicated
from ferbot.emotions import CLASS_NAMES, FACE_SIZE

log = logging.getLogger(__name__)

# Faces per device in one call: a batch is padded up to one of these sizes per device, so a new face count never
# triggers a recompile, and larger batches run in chunks of the largest. Chunks of 24 faces per device keep a
# layer's activations in a CPU's L3 cache: on the 2-core development machine the default model takes 37 ms for
# 2 x 24 faces and 49 ms for 2 x 28 (measured like `benchmarks/classifier_latency.py`).
FACES_PER_DEVICE = (1, 2, 4, 8, 12, 16, 20, 24)


class EmotionClassifier:
    """7-class facial-emotion classifier over 48x48 grayscale face crops.

    Each batch is split over this process's JAX devices: one per CPU core after `devices.use_cpu_cores()`.
    """

    class_names: tuple[str, ...] = CLASS_NAMES

    def __init__(self, model, card: dict):
        self.card = card
        model.eval()
        graphdef, variables = nnx.split(model)
        mesh = data_mesh(jax.local_devices())
        self._buckets = tuple(size * mesh.size for size in FACES_PER_DEVICE)
        self._variables = jax.device_put(variables, replicated(mesh))
        self._forward = jax.jit(lambda v, x: jax.nn.softmax(nnx.merge(graphdef, v)(x)),
                                in_shardings=(replicated(mesh), batch_sharding(mesh)))

    @classmethod
    def load(cls, path: str | Path | None = None, model: str = "default") -> EmotionClassifier:
        """Load a checkpoint folder (a path, or the name of one in checkpoints/: checkpoint.checkpoint_folder); when
        `path` is None, the shipped `model` (a key of checkpoint.MODELS: default, lite, webcam)."""
        directory = checkpoint_folder(path) if path is not None else shipped_checkpoint_dir(model)
        if str(path) in MODELS and not directory.is_dir():
            raise CheckpointError(f"no checkpoint folder {path!r}: for the shipped {path} classifier, pass "
                                  f"model={str(path)!r}")
        model, card = load_checkpoint(directory)
        log.info("emotion classifier: %s", directory)
        return cls(model, card)

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """uint8 grayscale crops (N, 48, 48) -> float32 (N, 7) class probabilities (FER2013 order)."""
        try:
            faces = np.asarray(faces)
        except ValueError:  # a list of crops of different shapes
            raise ValueError(f"expected faces shaped (N, {FACE_SIZE}, {FACE_SIZE}), got crops of different shapes; "
                             f"{_SHAPE_FIX}") from None
        if faces.ndim != 3 or faces.shape[1:] != (FACE_SIZE, FACE_SIZE):
            one = " (one face: faces[None])" if faces.shape == (FACE_SIZE, FACE_SIZE) else ""
            raise ValueError(f"expected faces shaped (N, {FACE_SIZE}, {FACE_SIZE}), got {faces.shape}{one}; "
                             f"{_SHAPE_FIX}")
        if faces.dtype != np.uint8:  # copied into uint8 batches: floats would be cut, and crops in [0, 1] go black
            raise ValueError(f"expected uint8 faces (pixel values 0-255), got {faces.dtype}; {_conversion(faces)}")
        out = np.empty((len(faces), len(CLASS_NAMES)), np.float32)
        chunk = self._buckets[-1]
        for start in range(0, len(faces), chunk):
            part = faces[start:start + chunk]
            size = next(b for b in self._buckets if b >= len(part))
            padded = np.zeros((size, FACE_SIZE, FACE_SIZE), np.uint8)
            padded[: len(part)] = part
            out[start:start + len(part)] = np.asarray(self._forward(self._variables, padded))[: len(part)]
        return out

    def warmup(self) -> None:
        """Compile every batch bucket now rather than on the first live frames. With the persistent compilation
        cache (devices.use_compilation_cache) a later launch loads them from disk."""
        self._compile_buckets(threading.Event())

    def warmup_in_background(self) -> BackgroundWarmup:
        """warmup in a thread, smallest bucket first, so that the bot's feed starts at once (an analysis that needs a
        bucket not compiled yet compiles it itself); close the returned handle before the process exits."""
        return BackgroundWarmup(self._compile_buckets)

    def _compile_buckets(self, stop: threading.Event) -> None:
        for size in self._buckets:
            if stop.is_set():
                return
            self.predict_proba(np.zeros((size, FACE_SIZE, FACE_SIZE), np.uint8))


class BackgroundWarmup:
    """A classifier's buckets compiling in a thread of their own, until done or closed."""

    def __init__(self, compile_buckets: Callable[[threading.Event], None]):
        self._stop, self._done = threading.Event(), threading.Event()

        def run() -> None:
            try:
                compile_buckets(self._stop)
            finally:
                self._done.set()

        threading.Thread(target=run, name="ferbot-warmup", daemon=True).start()

    def close(self) -> None:
        """Wait for every bucket to compile (the compilation cache then holds them all for the next launch); a
        Ctrl-C meanwhile stops it after the bucket under way, which is still waited for (a second or two), through
        further Ctrl-Cs, and is raised after: a thread still inside XLA when Python exits aborts the process
        ("terminate called ...")."""
        interrupted: KeyboardInterrupt | None = None
        while not self._done.is_set():
            try:
                self._done.wait()
            except KeyboardInterrupt as err:
                self._stop.set()
                interrupted = err
        if interrupted is not None:
            raise interrupted


# How to get crops the classifier reads, from pictures of any kind.
_SHAPE_FIX = (f"crop faces with ferbot.detect.face_crops, which makes {FACE_SIZE}x{FACE_SIZE} grayscale crops of an "
              "RGB picture's face boxes (ferbot.detect.FaceFinder finds them)")


def _conversion(faces: np.ndarray) -> str:
    """How to turn faces of another type into uint8 ones, by the range their values lie in."""
    if faces.size and np.issubdtype(faces.dtype, np.floating) and 0 <= np.min(faces) and np.max(faces) <= 1:
        return "convert crops in [0, 1] with (faces * 255).round().astype(np.uint8)"
    return "convert crops in [0, 255] with np.clip(faces, 0, 255).round().astype(np.uint8)"
