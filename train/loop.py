"""The training loop: epochs over Training, validation on PublicTest, resumable Orbax checkpoints."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import time
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.sharding import Mesh
from tqdm.auto import tqdm

from ferbot.classify.devices import batch_sharding, data_mesh
from train.config import TrainConfig
from train.data import FER2013, Split
from train.step import Trainer, TrainState, class_weights

log = logging.getLogger(__name__)


class _Stop(Exception):
    """Raised inside the loop to leave it through the save-and-stop path."""


class RunConfigMismatch(RuntimeError):
    """The run folder was started with another config; resuming would mix two experiments."""


class Interrupted(Exception):
    """Training stopped early (Ctrl-C or a requested stop step) after saving a resumable checkpoint."""

    def __init__(self, step: int):
        super().__init__(f"stopped at step {step}")
        self.step = step


class StopRequest:
    """Ctrl-C and `kill` as a request that the loop honours between two steps.

    An exception raised wherever the signal lands could cut a checkpoint save short inside Orbax. With this
    installed, the first signal lets the current step finish, then the loop saves and raises Interrupted; a
    second signal stops at once, keeping the last checkpoint saved before it.
    """

    def __init__(self):
        self.requested = False

    def install(self) -> None:
        """Handle SIGINT and SIGTERM (also where a background start ignores SIGINT)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("%s: saving after this step; send it again to stop at once", signal.Signals(signum).name)


@dataclasses.dataclass
class FitResult:
    trainer: Trainer
    best_state: TrainState
    history: list[dict]
    wall_time_s: float  # summed over every session of this run


def fit(cfg: TrainConfig, data: FER2013, run_dir: Path, *, mesh: Mesh | None = None,
        checkpoint_every: int = 200, stop_at_step: int | None = None, stop: StopRequest | None = None,
        progress: bool = True) -> FitResult:
    """Train on data.train, validate on data.val each epoch; resume from run_dir when it holds a run.

    data.test is never touched here. Raises Interrupted, after checkpointing, at stop_at_step or when `stop` is
    requested.
    """
    mesh = mesh or data_mesh()
    if cfg.batch_size % mesh.size:
        raise ValueError(f"--batch-size {cfg.batch_size} must be a multiple of the {mesh.size} devices")
    log.info("data parallel over %d %s device(s), %d images each per step", mesh.size,
             mesh.devices.flat[0].platform.upper(), cfg.batch_size // mesh.size)
    steps_per_epoch = len(data.train) // cfg.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{len(data.train)} training images are fewer than one batch of {cfg.batch_size}")
    trainer = Trainer(cfg, mesh, steps_per_epoch, class_weights(data.train.class_counts(),
                                                                cfg.class_weight_power))
    run_dir = Path(run_dir).resolve()
    _check_config(run_dir, cfg)
    latest = ocp.CheckpointManager(run_dir / "latest", options=ocp.CheckpointManagerOptions(max_to_keep=2))
    best = ocp.CheckpointManager(run_dir / "best", options=ocp.CheckpointManagerOptions(
        max_to_keep=1, best_fn=lambda m: m["val_accuracy"], best_mode="max"))
    state, meta = _restore_or_init(trainer, latest)
    key = jax.random.key(cfg.seed)
    total_steps = cfg.epochs * steps_per_epoch
    started = time.monotonic()

    def save(step: int, meta: dict) -> None:
        meta = {**meta, "wall_time_s": meta["wall_time_s"] + time.monotonic() - started}
        latest.save(step, args=ocp.args.Composite(state=ocp.args.StandardSave(state),
                                                  meta=ocp.args.JsonSave(meta)), force=True)

    step = int(state["step"])
    try:
        while step < total_steps:
            epoch = step // steps_per_epoch
            order = np.random.default_rng([cfg.seed, epoch]).permutation(len(data.train))
            bar = tqdm(range(step % steps_per_epoch, steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}",
                       unit="batch", disable=not progress, dynamic_ncols=True, mininterval=1.0)
            loss_sum = correct = seen = 0
            t0 = time.monotonic()
            for i in bar:
                # Checked before a step rather than after one, so that an epoch's last step is always followed
                # by its evaluation and save.
                if step == stop_at_step or (stop is not None and stop.requested):
                    raise _Stop
                idx = order[i * cfg.batch_size:(i + 1) * cfg.batch_size]
                images, labels = _shard(mesh, data.train.images[idx], data.train.labels[idx])
                state, metrics = trainer.train_step(state, images, labels, key)
                step += 1
                loss_sum += float(metrics["loss"]) * len(idx)
                correct += int(metrics["correct"])
                seen += len(idx)
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.1%}",
                                img_s=f"{seen / (time.monotonic() - t0):.0f}", refresh=False)
                if step % checkpoint_every == 0 and step % steps_per_epoch:
                    save(step, meta)
            bar.close()
            val_acc = _accuracy(trainer, state, data.val, cfg.eval_batch_size)
            record = {"epoch": epoch + 1, "step": step, "val_accuracy": val_acc,
                      "train_loss": loss_sum / max(seen, 1), "train_accuracy": correct / max(seen, 1),
                      "images_per_s": seen / (time.monotonic() - t0), "lr": float(trainer.schedule(step))}
            meta = {**meta, "history": meta["history"] + [record]}
            improved = val_acc > max((r["val_accuracy"] for r in meta["history"][:-1]), default=-1)
            log.info("epoch %d/%d: train loss %.3f acc %.1f%% (%.0f img/s), PublicTest acc %.2f%%%s",
                     epoch + 1, cfg.epochs, record["train_loss"], 100 * record["train_accuracy"],
                     record["images_per_s"], 100 * val_acc, "  (best so far)" if improved else "")
            if improved:
                best.save(step, args=ocp.args.StandardSave(state), metrics={"val_accuracy": val_acc}, force=True)
            save(step, meta)
    except _Stop:
        if latest.latest_step() != step:  # not saved already at the end of an epoch
            save(step, meta)
        latest.wait_until_finished()
        raise Interrupted(step) from None
    finally:
        latest.wait_until_finished()
        best.wait_until_finished()
    best_state = best.restore(best.best_step(), args=ocp.args.StandardRestore(_abstract(state)))
    wall = meta["wall_time_s"] + time.monotonic() - started
    latest.close()
    best.close()
    return FitResult(trainer, best_state, meta["history"], wall)


def _check_config(run_dir: Path, cfg: TrainConfig) -> None:
    path = run_dir / "config.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if saved != json.loads(json.dumps(cfg.to_dict())):
            diff = sorted(k for k in set(saved) | set(cfg.to_dict()) if saved.get(k) != cfg.to_dict().get(k))
            raise RunConfigMismatch(f"{run_dir} holds a run with a different config (differs in: "
                                    f"{', '.join(diff)}); pass --fresh to restart it or --name for a new run")
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")


def _restore_or_init(trainer: Trainer, latest: ocp.CheckpointManager) -> tuple[TrainState, dict]:
    state = trainer.init_state()
    step = latest.latest_step()
    if step is None:
        return state, {"history": [], "wall_time_s": 0.0}
    restored = latest.restore(step, args=ocp.args.Composite(state=ocp.args.StandardRestore(_abstract(state)),
                                                            meta=ocp.args.JsonRestore()))
    log.info("resuming from step %d (%d epochs done)", step, len(restored.meta["history"]))
    return restored.state, dict(restored.meta)


def _abstract(state: TrainState):
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding), state)


def _shard(mesh: Mesh, *arrays: np.ndarray) -> list[jax.Array]:
    """Place a global host batch on the mesh; each process contributes its slice of the batch."""
    sharding = batch_sharding(mesh)
    n, p = jax.process_count(), jax.process_index()
    out = []
    for a in arrays:
        local = np.array_split(a, n)[p]
        out.append(jax.make_array_from_process_local_data(sharding, local, a.shape))
    return out


def _accuracy(trainer: Trainer, state: TrainState, split: Split, batch_size: int) -> float:
    """Validation accuracy with the eval-mode model; the last batch is padded to shard evenly."""
    batch_size -= batch_size % trainer.mesh.size
    correct = 0
    for start in range(0, len(split), batch_size):
        images = split.images[start:start + batch_size]
        padded = np.zeros((batch_size, *images.shape[1:]), np.uint8)
        padded[: len(images)] = images
        (x,) = _shard(trainer.mesh, padded)
        probs = np.asarray(trainer.predict(state, x))[: len(images)]
        correct += int((probs.argmax(1) == split.labels[start:start + batch_size]).sum())
    return correct / len(split)

