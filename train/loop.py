"""The training loop: epochs over Training, validation on PublicTest, resumable Orbax checkpoints."""

from __future__ import annotations

import dataclasses
import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.sharding import Mesh
from tqdm.auto import tqdm

from ferbot.classify.checkpoint import disk_full, orbax_quiet
from ferbot.classify.devices import batch_sharding, data_mesh
from ferbot.console import first_line
from train.config import ConfigError, TrainConfig
from train.data import FER2013, Split
from train.run_folder import LATEST, RunStateError, check_run_folder, discard_run
from train.step import Trainer, TrainState, class_weights
from train.targets import require_ferplus, training_targets
from train.teachers import load_teachers, teacher_predictions

log = logging.getLogger(__name__)

START_OVER = "pass --fresh to start the run over"
TEACHERS_KEY = "teachers"  # in the saved state's metadata: what the teachers' predictions were computed from


class _Stop(Exception):
    """Raised inside the loop to leave it through the save-and-stop path."""


class Interrupted(Exception):
    """Training stopped (Ctrl-C or a requested stop step) after saving a resumable checkpoint: early, or with every
    epoch trained (`finished`) but not exported."""

    def __init__(self, step: int, finished: bool = False):
        super().__init__(f"stopped at step {step}")
        self.step, self.finished = step, finished


class StoppedBeforeStart(Exception):
    """A fresh start (--fresh) asked to stop before it deleted the run there: nothing was deleted or trained."""


class StopRequest:
    """Ctrl-C and `kill` as a request that the loop honours between two steps.

    An exception raised wherever the signal lands could cut a checkpoint save short inside Orbax. With this
    installed, the first signal lets the current step finish, then the loop saves and raises Interrupted; a
    second signal stops at once, keeping the last checkpoint saved before it.
    """

    def __init__(self):
        self.requested = False

    @contextmanager
    def installed(self) -> Iterator[StopRequest]:
        """Handle SIGINT and SIGTERM (also where a background start ignores SIGINT) within the block; after it,
        however it ends, they go back to the handlers they had (after training: stop at once)."""
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("%s: saving after this step; send it again to stop at once", signal.Signals(signum).name)


@dataclasses.dataclass
class FitResult:
    """A finished run: its trainer, the weights of its best PublicTest epoch and its history, epoch by epoch."""

    trainer: Trainer
    best_state: TrainState
    history: list[dict]
    wall_time_s: float  # summed over every session of this run


def fit(cfg: TrainConfig, data: FER2013, run_dir: Path, *, checkpoint_every: int = 200,
        stop_at_step: int | None = None, stop: StopRequest | None = None, progress: bool = True,
        fresh: bool = False) -> FitResult:
    """Train on data.train, validate on data.val each epoch; resume from run_dir when it holds a run, or, `fresh`,
    delete its saved state (once the command has been checked) and start over.

    data.test is never touched here. Raises RunMismatch when run_dir holds a run with another config or other data,
    and Interrupted, after checkpointing, at stop_at_step (a finished run past it: not exported) or when `stop` is
    requested; StoppedBeforeStart when that came before a fresh start deleted the run.
    """
    mesh = data_mesh()
    steps_per_epoch = _steps_per_epoch(cfg, len(data.train), mesh)
    run_dir = Path(run_dir).resolve()
    # What the run starts from (--init) and trains towards, checked before the run folder records the run (or a
    # fresh start deletes the one there), so that a mistyped path can be corrected by running the command again.
    saved = run_dir / LATEST
    saved_steps = ocp.utils.checkpoint_steps(saved) if saved.is_dir() else []
    restoring = bool(saved_steps) and not fresh
    trainer = Trainer(cfg, mesh, steps_per_epoch, class_weights(data.train.class_counts(), cfg.class_weight_power),
                      restoring=restoring)
    require_ferplus(data.train, cfg.ferplus_weight)
    if cfg.teacher_weight and not restoring:  # a resumed run reads them only if their predictions' cache is gone
        load_teachers(cfg.teachers)
    if fresh and run_dir.exists():
        if stop is not None and stop.requested:  # asked while the data loaded
            raise StoppedBeforeStart
        discard_run(run_dir)
    check_run_folder(run_dir, cfg, data)
    session = _Session(trainer, data, run_dir, checkpoint_every=checkpoint_every, stop_at_step=stop_at_step,
                       stop=stop, progress=progress)
    try:
        session.train()
        # asked during the last validation, or the run had finished past the stop: saved, and not exported
        if stop is not None and stop.requested or stop_at_step is not None and session.step > stop_at_step:
            raise Interrupted(session.step, finished=True)
        result = session.result()
    finally:
        session.close()
    if stop is not None and stop.requested:  # asked while the best weights were read back: saved, not exported
        raise Interrupted(session.step, finished=True)
    return result


def _steps_per_epoch(cfg: TrainConfig, n_train: int, mesh: Mesh) -> int:
    if cfg.batch_size % mesh.size:
        raise ConfigError(f"--batch-size {cfg.batch_size} must be a multiple of the {mesh.size} devices")
    log.info("data parallel over %d %s device(s), %d images each per step", mesh.size,
             mesh.devices.flat[0].platform.upper(), cfg.batch_size // mesh.size)
    if n_train < cfg.batch_size:
        raise ConfigError(f"{n_train} training images are fewer than one batch (--batch-size {cfg.batch_size}): "
                          "give a smaller --batch-size or a larger --limit-train")
    return n_train // cfg.batch_size


@dataclasses.dataclass
class _EpochTotals:
    """Running sums over the training steps of one epoch, kept in the resumable state so that a resumed epoch's
    record covers all its steps; its speed is this session's."""

    loss_sum: float = 0.0
    correct: int = 0
    seen: int = 0
    timed: int = 0  # images seen in this session
    started: float = dataclasses.field(default_factory=time.monotonic)

    def add(self, metrics: dict, n: int) -> None:
        self.loss_sum += float(metrics["loss"]) * n
        self.correct += int(metrics["correct"])
        self.seen += n
        self.timed += n

    def saved(self) -> dict:
        """The sums, for the resumable state's metadata (a session resuming mid-epoch starts from them)."""
        return {"loss_sum": self.loss_sum, "correct": self.correct, "seen": self.seen}

    def summary(self) -> dict:
        """Mean loss and accuracy, and speed, for the epoch's record."""
        return {"train_loss": self.loss_sum / max(self.seen, 1), "train_accuracy": self.correct / max(self.seen, 1),
                "images_per_s": self.timed / (time.monotonic() - self.started)}

    def postfix(self) -> dict:
        """The same for the progress bar."""
        s = self.summary()
        return {"loss": f"{s['train_loss']:.3f}", "acc": f"{s['train_accuracy']:.1%}",
                "img_s": f"{s['images_per_s']:.0f}"}


class _Session:
    """One sitting of a run: restores the run folder's latest state, trains until the end or a stop, saves.

    `latest` keeps the resumable state and its metadata (history, wall time); `best` the weights of the epoch
    with the best PublicTest accuracy.
    """

    def __init__(self, trainer: Trainer, data: FER2013, run_dir: Path, *,
                 checkpoint_every: int, stop_at_step: int | None, stop: StopRequest | None, progress: bool):
        self.trainer, self.cfg, self.data = trainer, trainer.cfg, data
        self.checkpoint_every, self.stop_at_step, self.stop = checkpoint_every, stop_at_step, stop
        self.progress = progress
        self.latest = ocp.CheckpointManager(run_dir / LATEST, options=ocp.CheckpointManagerOptions(max_to_keep=2))
        # Two kept: a session stopped between _save_best and _save loses the newer (_forget_unsaved_bests), and
        # the one before it must still be there.
        self.best = ocp.CheckpointManager(run_dir / "best", options=ocp.CheckpointManagerOptions(
            max_to_keep=2, best_fn=lambda m: m["val_accuracy"], best_mode="max"))
        try:
            self._resume(run_dir)
        except BaseException:  # a damaged run folder, teachers re-exported since, a Ctrl-C: the managers close
            self.close()
            raise
        self.key = jax.random.key(self.cfg.seed)
        self.started = time.monotonic()

    def _resume(self, run_dir: Path) -> None:
        """The run's latest state (or a fresh one), the epoch's sums so far and the training targets."""
        self.state, self.meta = _restore_or_init(self.trainer, self.latest)
        self.step = int(self.state["step"])
        self._forget_unsaved_bests()
        # the epoch's sums so far where resuming mid-epoch (a state saved before they were kept has none)
        so_far = self.meta.get("epoch_totals") if self.step % self.trainer.steps_per_epoch else None
        self.totals = _EpochTotals(**so_far) if so_far else _EpochTotals()
        # a finished run, run again for its export only, trains on nothing and needs no targets (nor teachers)
        unfinished = self.step < self.cfg.epochs * self.trainer.steps_per_epoch
        self.targets = self._training_targets(run_dir) if unfinished else None

    def _training_targets(self, run_dir: Path) -> np.ndarray:
        """Each Training image's target; with teachers, the key of their predictions goes into the saved state."""
        teacher = None
        if self.cfg.teacher_weight:
            teacher, key = teacher_predictions(self.cfg.teachers, self.data.train, run_dir,
                                               self.meta.get(TEACHERS_KEY))
            self.meta = {**self.meta, TEACHERS_KEY: key}
        return training_targets(self.data.train, self.cfg.label_smoothing, self.cfg.ferplus_weight, teacher,
                                self.cfg.teacher_weight)

    def train(self) -> None:
        """Train to the last epoch, or save and raise Interrupted when a stop is due."""
        try:
            while self.step < self.cfg.epochs * self.trainer.steps_per_epoch:
                epoch = self.step // self.trainer.steps_per_epoch
                self._train_epoch(epoch)
                self._end_epoch(epoch)
        except _Stop:
            if self.latest.latest_step() != self.step:  # not saved already at the end of an epoch
                self._save()
            raise Interrupted(self.step) from None
        finally:
            for manager in (self.latest, self.best):
                with _saving(manager):
                    manager.wait_until_finished()

    def _train_epoch(self, epoch: int) -> None:
        """The rest of epoch `epoch` (all of it unless resuming mid-epoch), in the epoch's seeded order, summed
        into self.totals."""
        steps_per_epoch, batch = self.trainer.steps_per_epoch, self.cfg.batch_size
        train = self.data.train
        order = np.random.default_rng([self.cfg.seed, epoch]).permutation(len(train))
        totals = self.totals
        totals.started = time.monotonic()  # the speed is this session's
        with tqdm(range(self.step % steps_per_epoch, steps_per_epoch), desc=f"epoch {epoch + 1}/{self.cfg.epochs}",
                  unit="batch", disable=not self.progress, dynamic_ncols=True, mininterval=1.0) as bar:
            for i in bar:
                # Checked before a step rather than after one, so that an epoch's last step is always followed
                # by its evaluation and save.
                if (self.stop_at_step is not None and self.step >= self.stop_at_step
                        or self.stop is not None and self.stop.requested):
                    raise _Stop
                idx = order[i * batch:(i + 1) * batch]
                images, labels, targets = _shard(self.trainer.mesh, train.images[idx], train.labels[idx],
                                                 self.targets[idx])
                self.state, metrics = self.trainer.train_step(self.state, images, labels, targets, self.key)
                self.step += 1
                totals.add(metrics, len(idx))
                bar.set_postfix(totals.postfix(), refresh=False)
                if self.step % self.checkpoint_every == 0 and self.step % steps_per_epoch:
                    self._save()

    def _end_epoch(self, epoch: int) -> None:
        """Validate on PublicTest, append to the history, keep the best weights and save the resumable state."""
        trained = self.totals.summary()  # before validating: its speed is the training's
        # the rate of the epoch's last step (the schedule's next value would be the next epoch's first), before a
        # plateau cut for the next epoch
        rate = self.trainer.learning_rate(self.state, self.step - 1)
        val_acc = _accuracy(self.trainer, self.state, self.data.val, self.cfg.eval_batch_size)
        self.state = self.trainer.validated(self.state, val_acc)
        record = {"epoch": epoch + 1, "step": self.step, "val_accuracy": val_acc, **trained, "lr": rate}
        self.totals = _EpochTotals()
        history = self.meta["history"]
        improved = val_acc > max((r["val_accuracy"] for r in history), default=-1)
        self.meta = {**self.meta, "history": history + [record]}
        log.info("epoch %d/%d: train loss %.3f acc %.1f%% (%.0f img/s), PublicTest acc %.2f%%%s",
                 epoch + 1, self.cfg.epochs, record["train_loss"], 100 * record["train_accuracy"],
                 record["images_per_s"], 100 * val_acc, "  (best so far)" if improved else "")
        if improved:
            self._save_best(val_acc)
        self._save()

    def _save_best(self, val_acc: float) -> None:
        """Keep this epoch's state as the best, on disk before the resumable state that counts the epoch (a
        session stopped between the two: _forget_unsaved_bests)."""
        with _saving(self.best):
            self.best.save(self.step, args=ocp.args.StandardSave(self.state), metrics={"val_accuracy": val_acc},
                           force=True)
            self.best.wait_until_finished()

    def _forget_unsaved_bests(self) -> None:
        """Delete `best` states of steps past the restored one: a session stopped between _save_best and _save
        left them, for an epoch the history does not hold. The replayed epoch saves its own best again if it
        improves; were the stale one kept, it could outrank (and so delete) later real bests, and the export
        would not be any epoch of the history."""
        for step in self.best.all_steps():
            if step > self.step:
                log.info("deleting the best state of step %d, saved by a session stopped before it recorded "
                         "that epoch (the epoch is replayed)", step)
                self.best.delete(step)

    def _save(self) -> None:
        """Save the resumable state at the current step, with the wall time of every session so far."""
        meta = {**self.meta, "wall_time_s": self._wall_time(), "epoch_totals": self.totals.saved()}
        with _saving(self.latest):
            self.latest.save(self.step, args=ocp.args.Composite(state=ocp.args.StandardSave(self.state),
                                                                meta=ocp.args.JsonSave(meta)), force=True)

    def _wall_time(self) -> float:
        return self.meta["wall_time_s"] + time.monotonic() - self.started

    def result(self) -> FitResult:
        """The finished run: its best epoch's state and its history."""
        with _reading(self.best, f"the best epoch's weights (step {self.best.best_step()})"):
            best_state = self.best.restore(self.best.best_step(),
                                           args=ocp.args.StandardRestore(_abstract(self.state)))
        return FitResult(self.trainer, best_state, self.meta["history"], self._wall_time())

    def close(self) -> None:
        try:
            with _saving(self.latest):
                self.latest.close()
        finally:
            with _saving(self.best):
                self.best.close()


def _saving(manager: ocp.CheckpointManager) -> AbstractContextManager[None]:
    """Orbax failing to write the run's state (a full disk: TensorStore's ValueError, among others) as one
    RunStateError line; the states saved before stay."""
    return _orbax_failure(lambda err: f"cannot save the run's state in {manager.directory} ({first_line(err)[:200]}): "
                          + ("free some space (or give another --runs-dir) and " if disk_full(err) else "")
                          + "run the same command again: it resumes from the last state saved")


def _reading(manager: ocp.CheckpointManager, what: str, remedy: str = START_OVER) -> AbstractContextManager[None]:
    """Orbax failing to read `what` back (a file cut short or damaged) as one RunStateError line, `remedy` after."""
    return _orbax_failure(lambda err: f"cannot read {what} in {manager.directory} ({first_line(err)[:200]})"
                          + (f": {remedy}" if remedy else ""))


@contextmanager
def _orbax_failure(message: Callable[[Exception], str]) -> Iterator[None]:
    """Any error of Orbax in the block (it raises many types) as RunStateError(message(err)), without absl's log
    lines before it; the traceback at debug level."""
    try:
        with orbax_quiet():
            yield
    except Exception as err:
        text = message(err)
        log.debug("%s", text, exc_info=True)
        raise RunStateError(text) from None


def _restore_or_init(trainer: Trainer, latest: ocp.CheckpointManager) -> tuple[TrainState, dict]:
    """The newest state saved that can be read back (a newer one damaged, by a machine stopped while writing it or
    a bad disk, is deleted: the replayed steps save it again), or a new one."""
    state = trainer.init_state()
    steps = sorted(latest.all_steps(), reverse=True)
    for tried, step in enumerate(steps):
        oldest = tried == len(steps) - 1
        try:
            with _reading(latest, f"the state saved at step {step}", START_OVER if oldest else ""):
                restored = latest.restore(step, args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(_abstract(state)), meta=ocp.args.JsonRestore()))
        except RunStateError as err:
            if oldest:
                raise
            log.warning("%s; resuming from the state saved before it instead", err)
            continue
        for damaged in steps[:tried]:
            latest.delete(damaged)
        log.info("resuming from step %d (%d epochs done)", step, len(restored.meta["history"]))
        return restored.state, dict(restored.meta)
    return state, {"history": [], "wall_time_s": 0.0}


def _abstract(state: TrainState):
    return jax.tree.map(ocp.utils.to_shape_dtype_struct, state)


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
    batch_size = max(trainer.mesh.size, batch_size - batch_size % trainer.mesh.size)
    correct = 0
    for start in range(0, len(split), batch_size):
        images = split.images[start:start + batch_size]
        padded = np.zeros((batch_size, *images.shape[1:]), np.uint8)
        padded[: len(images)] = images
        (x,) = _shard(trainer.mesh, padded)
        probs = np.asarray(trainer.predict(state, x))[: len(images)]
        correct += int((probs.argmax(1) == split.labels[start:start + batch_size]).sum())
    return correct / len(split)
