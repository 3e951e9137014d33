"""Running one side of a benchmark case in a fresh process, and reporting its peak memory.

Each side (the reference recipe, the project's fit) runs in its own spawned process so that
its peak memory is its own and neither warms caches or allocators for the other.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import torch


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (includes the ~300 MB torch runtime)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_side(fn: Callable[..., dict[str, Any]], kwargs: dict[str, Any]) -> dict[str, Any]:
    if kwargs.get("device", "cpu").startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    out = fn(**kwargs)
    if kwargs.get("device", "cpu").startswith("cuda"):
        out["peak_mem_mb"] = torch.cuda.max_memory_allocated() / 2**20
    else:
        out["peak_mem_mb"] = peak_rss_mb()
    return out


def isolated(fn: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    """Run ``fn(**kwargs)`` in a fresh spawned process; its dict gains ``peak_mem_mb``.

    On CUDA the peak is the device's allocated peak; on CPU the process's peak RSS.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_run_side, fn, kwargs).result()


def first_time_reaching(times: list[float], values: list[float], target: float) -> float | None:
    """The first time at which ``values`` reaches ``target`` (None if it never does)."""
    for t, v in zip(times, values, strict=True):
        if v >= target:
            return t
    return None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return round(numerator / denominator, 2)
