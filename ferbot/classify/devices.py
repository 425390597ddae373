"""How JAX uses this machine's devices: one single-threaded XLA device per CPU core, and a 1-D mesh that splits batches.

Shared by inference (`EmotionClassifier`) and training (`python -m train`, whose step is data-parallel over the
same mesh, across every GPU or TPU when there are some).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

log = logging.getLogger(__name__)

DATA_AXIS = "data"


def use_cpu_cores(batch_size: int | None = None, most: int | None = None) -> None:
    """Run XLA's CPU backend as one single-threaded device per core (at most `most`), so a batch split over them
    keeps those cores busy.

    XLA's multi-threaded CPU convolutions keep two cores far less busy than two devices that each take half the
    batch on one core: above all the kernel gradients in training (`benchmarks/train_throughput.py --stock-xla`),
    and a batch of faces in the live bot (`benchmarks/classifier_latency.py --stock-xla`). How many devices:
    cpu_device_count, for the cores this process may use. It leaves XLA alone when
    XLA_FLAGS or JAX_NUM_CPU_DEVICES already choose, and (with a warning) when JAX is already using its devices.
    GPUs and TPUs, when present, are used as before: this only shapes the CPU backend.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "JAX_NUM_CPU_DEVICES" in os.environ or "host_platform_device_count" in flags or "multi_thread_eigen" in flags:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    devices = cpu_device_count(cores if most is None else min(cores, most), batch_size)
    if devices > 1:
        try:
            jax.config.update("jax_num_cpu_devices", devices)
        except RuntimeError:  # JAX has started: its devices are fixed for this process
            log.warning("JAX is already running: keeping its %d device(s) instead of one per CPU core",
                        jax.device_count())
            return
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()


def cpu_device_count(cores: int, batch_size: int | None = None) -> int:
    """One device per core; with `batch_size`, the most devices up to `cores` that split the batch evenly."""
    return max(d for d in range(1, cores + 1) if batch_size is None or batch_size % d == 0)


def cache_dir() -> Path:
    """ferbot's folder in the user's cache: $XDG_CACHE_HOME/ferbot where that is set (on any system), otherwise
    ~/.cache/ferbot on Linux, ~/Library/Caches/ferbot on macOS, %LOCALAPPDATA%\\ferbot on Windows."""
    if os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"])
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path.home() / ".cache"
    return base / "ferbot"


def use_compilation_cache() -> Path | None:
    """Keep XLA's compiled programs on disk (in cache_dir()/jax), so a second launch loads the classifier's
    programs instead of compiling them (seconds on a laptop's CPU). Call it before anything is compiled. Leaves
    JAX alone when JAX_COMPILATION_CACHE_DIR already chooses; a folder it cannot create only costs the speed-up.
    Returns the folder in use, or None."""
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    folder = cache_dir() / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        log.warning("no compilation cache (%s): every launch compiles the classifier again", err)
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)  # the classifier's programs: ~0.5 s each
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder


def data_mesh(devices: list | None = None) -> Mesh:
    """A 1-D mesh over `devices` (default: all of them) along which batches are split."""
    devices = jax.devices() if devices is None else devices
    return Mesh(np.asarray(devices), (DATA_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split across the mesh."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """A full copy on every device (parameters, optimiser state)."""
    return NamedSharding(mesh, PartitionSpec())
