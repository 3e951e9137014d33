"""Sweeps: grids of fits from a YAML config, packed into batched tasks, stored in SQLite.

This is the in-process core (config, tasks, store, resume, status, CSV export, report
pictures in :mod:`untrained_cs.plots.sweep`); running tasks on a Dask cluster and Parquet
export are still to come.
"""

from .config import Fit, SweepConfig, load, make_fit, parse
from .run import Task, plan, run_sweep, run_task
from .store import Store

__all__ = [
    "Fit",
    "Store",
    "SweepConfig",
    "Task",
    "load",
    "make_fit",
    "parse",
    "plan",
    "run_sweep",
    "run_task",
]
