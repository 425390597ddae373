"""Data parallelism over every local (and, in a cluster, every global) JAX device."""

from __future__ import annotations

import logging
import os

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

log = logging.getLogger(__name__)

DATA_AXIS = "data"
# Variables that jax.distributed.initialize() reads from a standard multi-host launch.
_CLUSTER_VARS = ("JAX_COORDINATOR_ADDRESS", "SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE", "TPU_WORKER_HOSTNAMES",
                 "MEGASCALE_COORDINATOR_ADDRESS")


def use_cpu_cores(batch_size: int) -> None:
    """Run XLA's CPU backend as one single-threaded device per core, so the data-parallel step keeps every core
    busy.

    XLA's multi-threaded CPU convolutions (above all the kernel gradients) keep two cores far less busy than two
    devices that each run half the batch on one core: `benchmarks/train_throughput.py` measures the difference.
    The device count is the largest divisor of `batch_size` up to the number of cores. It only takes effect before
    JAX first uses a device, and is left alone when XLA_FLAGS or JAX_NUM_CPU_DEVICES already choose. GPUs and
    TPUs, when present, are used as before: this only shapes the CPU backend.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if "JAX_NUM_CPU_DEVICES" in os.environ or "host_platform_device_count" in flags or "multi_thread_eigen" in flags:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    devices = max(d for d in range(1, cores + 1) if batch_size % d == 0)
    if devices > 1:
        os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()
        jax.config.update("jax_num_cpu_devices", devices)


def maybe_initialize_distributed() -> None:
    """Join a multi-host JAX cluster when launched as one; a no-op on a single machine."""
    if any(v in os.environ for v in _CLUSTER_VARS) and not jax.distributed.is_initialized():
        jax.distributed.initialize()
        log.info("joined a JAX cluster: process %d of %d", jax.process_index(), jax.process_count())


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
