"""Training images/s of ferbot's JAX train step vs the same network in PyTorch (CPU), side by side.

    pip install torch==2.13.0        # CPU build; only this benchmark needs it
    python -m benchmarks.train_throughput [--batch-size 128] [--seconds 15] [--rounds 2] [--widths 32,64,160,320]
                                          [--stock-xla]

Measures, in one process and interleaved rounds:
  jax-project   the project's jitted train step (with its on-device augmentation), on the devices
                `python -m train` uses: on a CPU, one single-threaded XLA device per core
                (ferbot.classify.devices.use_cpu_cores; --stock-xla: XLA's default, one multi-threaded device;
                `python -m benchmarks.xla_setups train_throughput` runs the two side by side)
  jax-noaug     the same step with augmentation switched off (same work as the PyTorch step)
  jax-webcam    the same step with the `webcam` recipe's augmentation (train/configs/webcam.py): blur, dimming,
                noise, JPEG-like compression, pitch and glasses on top of the project's
  jax-whole-kgrad  the project's step with each kernel gradient XLA's over the whole batch, not in slices
                (ferbot.classify.model.trained_conv_3x3)
  torch         the identical architecture and optimiser in PyTorch, no augmentation, all cores
and prints images/s, each JAX variant's ratio to PyTorch, and jax-webcam's and jax-whole-kgrad's to jax-project.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from unittest import mock

import jax
import numpy as np
from tqdm.auto import tqdm

from benchmarks.command import add_xla_option, benchmark_parser, comma_list, print_json, run_benchmark, set_up_xla
from ferbot.classify import model
from ferbot.classify.devices import data_mesh
from ferbot.classify.model import ModelConfig
from ferbot.console import number, whole_number
from train.config import NO_AUGMENTATION, TrainConfig
from train.configs import load_recipe
from train.step import Trainer


def jax_step(cfg: TrainConfig, kernel_gradient_positions: int = model.KERNEL_GRADIENT_POSITIONS):
    """One train step of `cfg` on a batch of random faces, compiled with the kernel gradients computed over slices
    of `kernel_gradient_positions` positions."""
    trainer = Trainer(cfg, data_mesh(), steps_per_epoch=1000, weights=np.ones(7, np.float32))
    state = {"s": trainer.init_state()}
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (cfg.batch_size, 48, 48), dtype=np.uint8)
    labels = rng.integers(0, 7, cfg.batch_size).astype(np.int32)
    targets = np.eye(7, dtype=np.float32)[labels] * (1 - cfg.label_smoothing) + cfg.label_smoothing / 7
    key = jax.random.key(0)

    def step():
        state["s"], metrics = trainer.train_step(state["s"], images, labels, targets, key)
        jax.block_until_ready(metrics)
    with mock.patch.object(model, "KERNEL_GRADIENT_POSITIONS", kernel_gradient_positions):
        step()  # traced and compiled now
    return step


def torch_step(cfg: TrainConfig):
    import torch
    from torch import nn

    torch.set_num_threads(os.cpu_count())
    layers, cin = [], 1
    for width in cfg.model.widths:
        for i in range(cfg.model.convs_per_stage):
            layers += [nn.Conv2d(cin, width, 3, padding=1, bias=False), nn.BatchNorm2d(width)]
            layers += [nn.MaxPool2d(2), nn.ReLU()] if i == cfg.model.convs_per_stage - 1 else [nn.ReLU()]
            cin = width
    side = 48 // 2 ** len(cfg.model.widths)
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(side * side * cin, cfg.model.dense), nn.ReLU(),
                          nn.Dropout(cfg.model.dropout), nn.Linear(cfg.model.dense, 7))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    images = torch.rand(cfg.batch_size, 1, 48, 48)
    labels = torch.randint(0, 7, (cfg.batch_size,))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(images), labels)
        loss.backward()
        opt.step()
    return step


def images_per_s(step, batch: int, seconds: float) -> float:
    step()  # compile / warm up
    step()
    times, deadline = [], time.perf_counter() + seconds
    while not times or time.perf_counter() < deadline:  # one step at least, however short --seconds
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return batch / statistics.median(times)


def main() -> None:
    p = benchmark_parser(__doc__)
    p.add_argument("--batch-size", type=whole_number(1), default=128, help="images per step (default 128)")
    p.add_argument("--seconds", type=number(0, strict=True), default=15.0,
                   help="timed seconds per variant and round (default 15)")
    p.add_argument("--rounds", type=whole_number(1), default=2,
                   help="interleaved rounds; medians are reported (default 2)")
    widths = ",".join(map(str, ModelConfig().widths))
    p.add_argument("--widths", type=comma_list(whole_number(1), "whole numbers"), default=list(ModelConfig().widths),
                   help=f"the network's stage widths (default: the default recipe's, {widths})")
    add_xla_option(p)
    args = p.parse_args()
    set_up_xla(args, args.batch_size)
    cfg = TrainConfig(model=ModelConfig(widths=tuple(args.widths)),
                      batch_size=args.batch_size)
    plain = dataclasses.replace(cfg, augment=NO_AUGMENTATION)
    webcam = dataclasses.replace(cfg, augment=load_recipe("webcam").augment)
    variants = {"jax-project": jax_step(cfg), "jax-noaug": jax_step(plain), "jax-webcam": jax_step(webcam),
                "jax-whole-kgrad": jax_step(cfg, kernel_gradient_positions=sys.maxsize)}
    try:
        variants["torch"] = torch_step(plain)
    except ImportError:
        print("PyTorch not installed (pip install torch==2.13.0): JAX variants only")
    results = {name: [] for name in variants}
    timed = tqdm(total=args.rounds * len(variants), desc="timing", unit="variant", file=sys.stderr, leave=False)
    for _ in range(args.rounds):
        for name, step in variants.items():
            results[name].append(images_per_s(step, args.batch_size, args.seconds))
            timed.update()
    timed.close()
    if args.json:
        print_json("images/s", {name: statistics.median(values) for name, values in results.items()
                                if name.startswith("jax")})  # PyTorch's step runs whatever XLA's set-up
        return
    print(f"widths {cfg.model.widths}, batch {args.batch_size}, {jax.devices()[0].device_kind} "
          f"x{len(jax.devices())}, {args.rounds} rounds x {args.seconds:.0f} s")
    torch_ips = statistics.median(results["torch"]) if "torch" in results else None
    for name, values in results.items():
        ips = statistics.median(values)
        ratio = f"  {ips / torch_ips:.2f}x PyTorch" if torch_ips and name != "torch" else ""
        print(f"  {name:16s} {ips:7.1f} images/s{ratio}")
    for name in ("jax-webcam", "jax-whole-kgrad"):
        ratio = statistics.median(results[name]) / statistics.median(results["jax-project"])
        print(f"  {name} trains at {ratio:.2f}x jax-project's images/s")


if __name__ == "__main__":
    run_benchmark(main)
