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
