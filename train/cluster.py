"""Training across machines: join a multi-host JAX cluster (the device mesh itself is `ferbot.classify.devices`)."""

from __future__ import annotations

import logging
import os

import jax

log = logging.getLogger(__name__)

# Variables that jax.distributed.initialize() reads from a standard multi-host launch.
_CLUSTER_VARS = ("JAX_COORDINATOR_ADDRESS", "SLURM_JOB_ID", "OMPI_COMM_WORLD_SIZE", "TPU_WORKER_HOSTNAMES",
                 "MEGASCALE_COORDINATOR_ADDRESS")


def maybe_initialize_distributed() -> None:
    """Join a multi-host JAX cluster when launched as one; a no-op on a single machine."""
    if any(v in os.environ for v in _CLUSTER_VARS) and not jax.distributed.is_initialized():
        jax.distributed.initialize()
        log.info("joined a JAX cluster: process %d of %d", jax.process_index(), jax.process_count())
