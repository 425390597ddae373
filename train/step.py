"""The jitted, data-parallel train and eval steps over a functional view of the NNX model."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh

from ferbot.classify.checkpoint import CheckpointError, checkpoint_folder, load_checkpoint, read_card
from ferbot.classify.devices import batch_sharding, replicated
from ferbot.classify.model import EmotionCNN, build_model
from train.augment import augment_batch
from train.config import ConfigError, TrainConfig

# {"step", "params", "batch_stats", "opt_state"}; with cfg.ema_decay, "ema" ({"params", "batch_stats"}: the moving
# average of the weights and of the batch-norm statistics, what is validated and exported); with the plateau
# schedule, "plateau" (optax's reduce_on_plateau state: the scale every update is multiplied by, and the PublicTest
# error it watches). Weights as pure dicts: a plain pytree for Orbax.
TrainState = dict[str, Any]


def class_weights(counts: np.ndarray, power: float) -> np.ndarray:
    """Loss weight per class, (1 / frequency) ** power, normalised to mean 1 over the training samples."""
    freq = counts / counts.sum()
    w = np.where(counts > 0, 1.0 / np.maximum(freq, 1e-12), 0.0) ** power
    return (w / (w * freq).sum()).astype(np.float32)


def make_schedule(cfg: TrainConfig, steps_per_epoch: int) -> optax.Schedule:
    """Linear warm-up to cfg.lr, then cosine decay to zero just after the last step, or (plateau) constant: the
    plateau's cuts scale the updates (make_plateau)."""
    total = max(1, cfg.epochs * steps_per_epoch)
    warmup = min(total - 1, int(cfg.warmup_epochs * steps_per_epoch))
    if cfg.schedule == "cosine":
        return optax.warmup_cosine_decay_schedule(0.0, cfg.lr, warmup_steps=warmup, decay_steps=total)
    return optax.warmup_constant_schedule(0.0, cfg.lr, warmup) if warmup else optax.constant_schedule(cfg.lr)


def make_optimizer(cfg: TrainConfig, schedule: optax.Schedule) -> optax.GradientTransformation:
    """AdamW or Nesterov SGD on the learning-rate schedule; weight decay on kernels only."""
    kernels_only = lambda params: jax.tree.map(lambda p: p.ndim > 1, params)  # noqa: E731
    if cfg.optimizer == "adamw":
        return optax.adamw(schedule, weight_decay=cfg.weight_decay, mask=kernels_only)
    return optax.chain(optax.add_decayed_weights(cfg.weight_decay, mask=kernels_only),  # sgd (check_config)
                       optax.sgd(schedule, momentum=0.9, nesterov=True))


def make_plateau(cfg: TrainConfig) -> optax.GradientTransformationExtraArgs:
    """The plateau schedule's cuts: optax's reduce_on_plateau, told the PublicTest error after each epoch."""
    return optax.contrib.reduce_on_plateau(factor=cfg.plateau_factor, patience=cfg.plateau_patience)


def initial_model(cfg: TrainConfig) -> EmotionCNN:
    """The model training starts from: cfg.init's exported weights (fine-tuning), else a fresh one from cfg.seed."""
    if not cfg.init:
        return build_model(cfg.model, seed=cfg.seed)
    folder = exported_checkpoint("--init", cfg.init)
    try:
        model, _ = load_checkpoint(folder)
    except CheckpointError as err:
        raise ConfigError(f"--init {cfg.init}: {err}") from None
    if model.config != cfg.model:
        raise ConfigError(f"--init {cfg.init} is a {model.config} network; the recipe trains a {cfg.model}: pass the "
                          "recipe whose architecture it has, or its --widths, --dense and the other model flags")
    return model


def exported_checkpoint(flag: str, given: str) -> Path:
    """The folder of the exported checkpoint an option names (--init, --teachers), its model card read: a
    ConfigError naming the option where it is not one. Reads no weights (nor starts JAX's devices)."""
    folder = checkpoint_folder(given)
    try:
        read_card(folder)
    except CheckpointError as err:
        raise ConfigError(f"{flag} {given}: {err}") from None
    return folder


@dataclasses.dataclass
class Trainer:
    """Pure train/eval steps for one config, jitted with the batch sharded over `mesh`."""

    cfg: TrainConfig
    mesh: Mesh
    steps_per_epoch: int
    weights: np.ndarray  # per-class loss weights
    restoring: bool = False  # a saved state replaces the initial weights: --init's checkpoint is not read

    def __post_init__(self):
        model = build_model(self.cfg.model, seed=self.cfg.seed) if self.restoring else initial_model(self.cfg)
        model.train()
        self.train_def, params, stats = nnx.split(model, nnx.Param, nnx.BatchStat)
        params, stats = nnx.to_pure_dict(params), nnx.to_pure_dict(stats)
        model.eval()
        self.eval_def = nnx.graphdef(model)
        self.schedule = make_schedule(self.cfg, self.steps_per_epoch)
        self.tx = make_optimizer(self.cfg, self.schedule)
        self.plateau = make_plateau(self.cfg) if self.cfg.schedule == "plateau" else None
        self._initial = (params, stats)
        rep, data = replicated(self.mesh), batch_sharding(self.mesh)
        # No buffer donation: Orbax may still be reading the previous state in a background save.
        self.train_step: Callable = jax.jit(self._train_step, in_shardings=(rep, data, data, data, rep),
                                            out_shardings=(rep, rep))
        self.predict: Callable = jax.jit(self._predict, in_shardings=(rep, data), out_shardings=data)

    def init_state(self) -> TrainState:
        """Freshly initialised state (deterministic in cfg.seed), replicated over the mesh."""
        params, stats = self._initial
        state = {"step": jnp.zeros((), jnp.int32), "params": params, "batch_stats": stats,
                 "opt_state": self.tx.init(params)}
        if self.cfg.ema_decay:
            state["ema"] = {"params": params, "batch_stats": stats}
        if self.plateau is not None:
            state["plateau"] = self.plateau.init(params)
        return jax.device_put(state, replicated(self.mesh))

    def validated(self, state: TrainState, accuracy: float) -> TrainState:
        """`state` after a PublicTest validation at `accuracy`: with the plateau schedule, the learning rate cut
        if accuracy has stalled for plateau_patience epochs."""
        if self.plateau is None:
            return state
        _, plateau = self.plateau.update({}, state["plateau"], value=np.float32(1.0 - accuracy))
        return {**state, "plateau": jax.device_put(plateau, replicated(self.mesh))}

    def learning_rate(self, state: TrainState, step: int | None = None) -> float:
        """The learning rate at `step` (default: `state`'s next step): the schedule's, times the plateau's cuts so
        far."""
        rate = float(self.schedule(state["step"] if step is None else step))
        return rate * float(state["plateau"].scale) if self.plateau is not None else rate

    def model_from(self, state: TrainState) -> EmotionCNN:
        """An eval-mode NNX model holding `state`'s weights and batch-norm statistics (their moving averages, when the
        config keeps them)."""
        weights = state.get("ema", state)
        return nnx.merge(self.eval_def, weights["params"], weights["batch_stats"])

    def _train_step(self, state: TrainState, images, labels, targets, key):
        """One optimiser step towards `targets` (train/targets.py), each face weighted by its label's class weight."""
        key = jax.random.fold_in(key, state["step"])
        aug_key, dropout_key = jax.random.split(key)
        x = augment_batch(aug_key, images, self.cfg.augment)
        weights = jnp.asarray(self.weights)[labels]

        def loss_fn(params, batch_stats):
            model = nnx.merge(self.train_def, params, batch_stats)
            logits = model(x, rngs=nnx.Rngs(dropout=dropout_key))
            loss = (optax.softmax_cross_entropy(logits, targets) * weights).mean()
            return loss, (logits, nnx.to_pure_dict(nnx.state(model, nnx.BatchStat)))

        (loss, (logits, stats)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state["params"], state["batch_stats"])
        updates, opt_state = self.tx.update(grads, state["opt_state"], state["params"])
        if self.plateau is not None:
            updates = optax.tree_utils.tree_scale(state["plateau"].scale, updates)
        params = optax.apply_updates(state["params"], updates)
        new_state = {**state, "step": state["step"] + 1, "params": params, "batch_stats": stats,
                     "opt_state": opt_state}
        if "ema" in state:
            new_state["ema"] = optax.incremental_update({"params": params, "batch_stats": stats}, state["ema"],
                                                        step_size=1 - self._ema_decay(state["step"]))
        metrics = {"loss": loss, "correct": (logits.argmax(-1) == labels).sum()}
        return new_state, metrics

    def _ema_decay(self, step: jax.Array) -> jax.Array | float:
        """The moving average's decay at `step` (the steps taken before this one)."""
        if not self.cfg.ema_warmup:
            return self.cfg.ema_decay
        return jnp.minimum(self.cfg.ema_decay, (1 + step) / (10 + step))

    def _predict(self, state: TrainState, images):
        return jax.nn.softmax(self.model_from(state)(images))
