"""Process-wide settings for fast, reproducible CPU runs: the thread share and the allocator.

Used by the command line, the sweep workers and the benchmarks (every process that fits).
"""

from __future__ import annotations

import atexit
import ctypes
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

#: seconds a starting command waits so that commands started together see each other
HANDSHAKE = 0.3


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


def jobs_folder() -> Path:
    """Where running commands of this user announce themselves (one file per process)."""
    return Path(tempfile.gettempdir()) / f"untrained-cs-jobs-{os.getuid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def register_job(settle: float | None = None) -> int:
    """Announce this process; return how many commands (this one included) are running.

    The short wait lets commands started at the same moment see each other. Files of
    processes that ended without removing theirs are ignored (and cleared).
    """
    folder = jobs_folder()
    try:
        folder.mkdir(exist_ok=True)
        mine = folder / str(os.getpid())
        mine.write_text("")
        atexit.register(mine.unlink, missing_ok=True)
    except OSError:
        return 1  # no shared temp folder: assume alone
    time.sleep(HANDSHAKE if settle is None else settle)
    running = 0
    for f in folder.iterdir():
        if f.name.isdigit() and _alive(int(f.name)):
            running += 1
        elif f.name.isdigit():
            f.unlink(missing_ok=True)
    return max(1, running)


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op threads: ``threads``, or by default a fair share of the cores.

    The default divides the available cores among the commands of this tool running at
    the same time (measured: threads beyond the cores make each fit several times slower,
    see bench/RESULTS.md); the count is fixed for the whole run, so it is reproducible.
    """
    if threads is None:
        n = max(1, available_cores() // register_job())
    else:
        register_job(settle=0.0)  # seen by commands that start later
        n = int(threads)
    torch.set_num_threads(n)
    return n
