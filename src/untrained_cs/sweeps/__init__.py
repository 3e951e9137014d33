"""Sweeps: grids of fits from a YAML config, packed into batched tasks, stored in SQLite.

Config (grid and zip axes), tasks, the store, resume, status, CSV and Parquet export and the
report pictures (:mod:`untrained_cs.plots.sweep`). Tasks run in this process or on a Dask
cluster (:mod:`untrained_cs.sweeps.distributed`, imported on demand: it loads Dask); either
way the calling process alone writes the store, holding the folder's lock
(:mod:`~untrained_cs.sweeps.lock`). :mod:`~untrained_cs.sweeps.outline` plans a sweep
(fits, tasks, probed time) before its fits are expanded.
"""

from .config import Fit, SweepConfig, load, make_fit, parse
from .lock import SweepBusy, hold
from .run import Executor, InProcess, Outcome, Task, Work, plan, run_sweep, run_task
from .store import DamagedStore, Store, StoreError

__all__ = [
    "DamagedStore",
    "Executor",
    "Fit",
    "InProcess",
    "Outcome",
    "Store",
    "StoreError",
    "SweepBusy",
    "SweepConfig",
    "Task",
    "Work",
    "hold",
    "load",
    "make_fit",
    "parse",
    "plan",
    "run_sweep",
    "run_task",
]
