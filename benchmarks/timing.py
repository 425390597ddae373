"""Timing helpers shared by the benchmarks: wall time of a jitted call, CPU time of this process."""

from __future__ import annotations

import statistics
import time

import jax


def median_ms(fn, *args, calls: int = 8) -> float:
    """Median wall time of `fn(*args)` in ms over `calls` calls, after one call to compile and warm up."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(calls):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def cpu_seconds() -> float:
    """User and system CPU time of this process so far, all threads."""
    return time.process_time()
