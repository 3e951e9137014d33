"""Process-wide settings for fast CPU runs, applied by the command line only."""

from __future__ import annotations

import ctypes
import os
import sys

import torch


def tune_process() -> None:
    """Keep freed memory in the heap (no page faults per iteration) and flush denormals.

    glibc returns large blocks to the OS with munmap, so each iteration's fresh activation
    buffers fault their pages in again; raising the mmap and trim thresholds keeps them.
    """
    torch.set_flush_denormal(True)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
            libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
        except OSError:
            pass


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op threads: ``threads``, or by default the available cores."""
    n = available_cores() if threads is None else int(threads)
    torch.set_num_threads(n)
    return n
