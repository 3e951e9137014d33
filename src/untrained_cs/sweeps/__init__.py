"""Sweeps: grids of fits from a YAML config, packed into batched tasks, stored in SQLite.

Config (grid and zip axes), tasks, the store, resume, status, CSV and Parquet export and the
report pictures (:mod:`untrained_cs.plots.sweep`). Tasks run in this process or on a Dask
cluster (:mod:`untrained_cs.sweeps.distributed`, imported on demand: it loads Dask); either
way the calling process alone writes the store.
"""

from .config import Fit, SweepConfig, load, make_fit, parse
from .run import Executor, InProcess, Outcome, Task, Work, plan, run_sweep, run_task
from .store import Store

__all__ = [
    "Executor",
    "Fit",
    "InProcess",
    "Outcome",
    "Store",
    "SweepConfig",
    "Task",
    "Work",
    "load",
    "make_fit",
    "parse",
    "plan",
    "run_sweep",
    "run_task",
]
