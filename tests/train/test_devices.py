"""Data parallelism: a batch split over two devices gives what one device gives, in training and in inference."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ferbot.classify.devices import cpu_device_count
from tests.helpers.data import REPO, fer2013_path
from tests.helpers.requires import unavailable

_SCRIPT = textwrap.dedent("""
    import jax, numpy as np
    from ferbot.classify.model import ModelConfig
    from train.config import TrainConfig
    from train.data import load_fer2013
    from ferbot.classify.devices import data_mesh
    from train.step import Trainer
    from train.loop import _shard
    from train.targets import training_targets

    assert len(jax.devices()) == 2, jax.devices()
    train = load_fer2013({path!r}).train
    cfg = TrainConfig(model=ModelConfig(widths=(8, 16), dense=16), batch_size=32)
    targets = training_targets(train, cfg.label_smoothing)
    finals = []
    for devices in (jax.devices()[:1], jax.devices()):
        mesh = data_mesh(devices)
        trainer = Trainer(cfg, mesh, steps_per_epoch=10, weights=np.ones(7, np.float32))
        state = trainer.init_state()
        for step in range(2):
            rows = slice(step * 32, (step + 1) * 32)
            images, labels, soft = _shard(mesh, train.images[rows], train.labels[rows], targets[rows])
            state, metrics = trainer.train_step(state, images, labels, soft, jax.random.key(0))
        print(len(devices), "devices: loss", float(metrics["loss"]),
              "batch sharded over", len(images.sharding.device_set))
        finals.append(jax.tree.map(np.asarray, state))
    for a, b in zip(jax.tree.leaves(finals[0]), jax.tree.leaves(finals[1])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    print("EQUAL")
""")


@pytest.mark.slow
def test_two_device_step_equals_single_device():
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    script = _SCRIPT.format(path=str(fer2013_path()))
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "batch sharded over 2" in run.stdout
    assert "EQUAL" in run.stdout


@pytest.mark.parametrize("cores, batch_size, expected", [(1, None, 1), (3, None, 3), (3, 128, 2), (4, 96, 4),
                                                         (6, 128, 4), (8, 100, 5), (8, 127, 1), (16, 128, 16)])
def test_cpu_device_count(cores, batch_size, expected):
    assert cpu_device_count(cores, batch_size) == expected


@pytest.mark.parametrize("cores, batch_size, most, expected", [(1, None, None, 1), (2, None, None, 2),
                                                               (2, 128, None, 2), (2, 127, None, 1), (2, None, 1, 1)])
def test_cpu_cores_become_devices(cores, batch_size, most, expected):
    """On a CPU, training and the bot run one single-threaded XLA device per core (for training: as many as
    divide the batch: cpu_device_count; for the bot, at most cli.BOT_CPU_DEVICES of them: `most`), on a process
    held to `cores` of this machine's cores (CI has 2). Importing the trainer and the bot first (as `python -m
    train` and `ferbot` do) must not start JAX's devices before they are chosen."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < cores:
        unavailable(f"needs {cores} CPU cores, this process may use {len(available)} (CI has 2)")
    script = textwrap.dedent(f"""
        import os
        os.sched_setaffinity(0, {available[:cores]})
        import jax
        import ferbot.bot, train.__main__, train.export, train.loop  # noqa
        from ferbot.classify.devices import use_cpu_cores
        use_cpu_cores({batch_size}, most={most})
        print(len(jax.devices()), os.environ.get("XLA_FLAGS", "-"))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, env={**env, "JAX_PLATFORMS": "cpu"},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    devices, flags = run.stdout.split(maxsplit=1)
    assert int(devices) == expected
    assert ("--xla_cpu_multi_thread_eigen=false" in flags) == (expected > 1)


@pytest.mark.slow
def test_classifier_split_over_two_devices_equals_one_device(fer2013, tmp_path):
    """The bot's classifier splits each batch over the CPU devices; real faces in batches that need padding and
    chunking get the probabilities a single device gives."""
    from ferbot import EmotionClassifier

    faces = fer2013.test.images[:139]
    np.save(tmp_path / "faces.npy", faces)
    script = textwrap.dedent(f"""
        import jax, numpy as np
        from ferbot import EmotionClassifier
        assert len(jax.local_devices()) == 2, jax.local_devices()
        classifier, faces = EmotionClassifier.load(), np.load({str(tmp_path / "faces.npy")!r})
        np.save({str(tmp_path / "split.npy")!r}, np.concatenate(
            [classifier.predict_proba(faces[:n]) for n in (1, 3, 50, 139)]))
    """)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    classifier = EmotionClassifier.load()
    single = np.concatenate([classifier.predict_proba(faces[:n]) for n in (1, 3, 50, 139)])
    np.testing.assert_allclose(np.load(tmp_path / "split.npy"), single, rtol=1e-4, atol=1e-5)
