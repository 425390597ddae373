"""Timing helpers shared by the benchmarks: wall time of jitted calls side by side, CPU time of this process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import jax


def interleaved_medians_ms(calls: list[tuple[Callable, tuple]], rounds: int = 8, repeats: int = 1) -> list[float]:
    """Median wall time in ms of each `fn(*args)` in `calls`, after one call each to compile and warm up; timed
    round by round, `repeats` calls of each in turn per round, so that machine noise hits them alike."""
    for fn, args in calls:
        jax.block_until_ready(fn(*args))
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for (fn, args), taken in zip(calls, times):
            for _ in range(repeats):
                started = time.perf_counter()
                jax.block_until_ready(fn(*args))
                taken.append(time.perf_counter() - started)
    return [1000 * statistics.median(taken) for taken in times]


def cpu_seconds() -> float:
    """User and system CPU time of this process so far, all threads."""
    return time.process_time()
