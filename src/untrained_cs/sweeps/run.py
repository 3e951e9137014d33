"""Running a sweep in this process: fits packed into batched tasks, results stored per task.

Fits that differ only in their root seed share every shape, so they are packed into one
batched fit (:func:`~untrained_cs.pipeline.run_batch`, dense operators; other operators
run their fits one by one inside the task), at most ``batch`` members per task. Fits
already stored as done are skipped, so running a sweep again continues it, and a config
edited with new axis values runs only the new fits. A task that raises is retried
``retries`` times, then its fits are stored as failed with the error; the sweep goes on.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..pipeline import Record, run, run_batch
from ..problems import build
from ..runfolder import package_version
from .config import Fit, SweepConfig
from .store import Store, row_for


@dataclass(frozen=True)
class Task:
    """Fits run as one unit of work (one batched fit when the operator allows)."""

    index: int
    fits: tuple[Fit, ...]


def plan(fits: list[Fit], batch: int) -> list[Task]:
    """Group fits that differ only in their seed; split each group into chunks of ``batch``."""
    groups: dict[str, list[Fit]] = {}
    for f in fits:
        shape = {**f.problem.to_dict(), "seed": None, "method": f.method.to_dict()}
        groups.setdefault(json.dumps(shape, sort_keys=True), []).append(f)
    tasks: list[Task] = []
    for members in groups.values():
        for start in range(0, len(members), batch):
            tasks.append(Task(len(tasks), tuple(members[start : start + batch])))
    return tasks


def run_task(task: Task) -> list[Record]:
    """The records of a task's fits, in its order."""
    problems = [build(f.problem) for f in task.fits]
    method = task.fits[0].method
    try:
        return run_batch(problems, method, device="cpu")
    except ValueError as exc:
        if "run_batch" not in str(exc):
            raise
    return [run(p, f.method, device="cpu") for p, f in zip(problems, task.fits, strict=True)]


def run_sweep(
    config: SweepConfig,
    folder: Path,
    *,
    runner: Callable[[Task], list[Record]] = run_task,
    progress: bool = True,
) -> dict[str, int]:
    """Run every fit of ``config`` not yet done in ``folder``; return the status counts."""
    fits = config.fits()
    store = Store(folder)
    try:
        done = store.done()
        todo = [f for f in fits if f.key not in done]
        bar = _bar(len(fits), len(fits) - len(todo), progress)
        for task in plan(todo, config.batch):
            store.write(_attempt(task, config, folder, runner))
            if bar is not None:
                bar.update(len(task.fits))
        if bar is not None:
            bar.close()
        return store.counts()
    finally:
        store.close()


def _attempt(task: Task, config: SweepConfig, folder: Path, runner) -> list[dict]:
    version, error = package_version(), ""
    for _ in range(config.retries + 1):
        try:
            records = runner(task)
        except Exception as exc:  # a failing task is recorded, the sweep goes on
            error = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
            continue
        if config.save_estimates:
            _save_estimates(folder, task, records)
        return [row_for(f, task.index, r.metrics, None, version)
                for f, r in zip(task.fits, records, strict=True)]  # fmt: skip
    return [row_for(f, task.index, None, error, version) for f in task.fits]


def _save_estimates(folder: Path, task: Task, records: list[Record]) -> None:
    out = folder / "estimates"
    out.mkdir(exist_ok=True)
    for f, r in zip(task.fits, records, strict=True):
        np.save(out / f"{f.key}.npy", r.estimate.numpy())


def _bar(total: int, done: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc="sweep", unit="fit", file=sys.stderr)
