"""Running a sweep: fits packed into batched tasks, run by an executor, stored per task.

Fits that differ only in their root seed share every shape, so they are packed into one
batched fit (:func:`~untrained_cs.pipeline.run_batch`, dense operators; other operators
run their fits one by one inside the task); with a dense Gaussian operator fits that also
differ in m share a task (rows zero-padded to the largest m, tasks cut from the fits
sorted by m so that little is padded). A task holds ``task_size`` fits (default four
batches) of which at most ``batch`` are computed at once: the others queue, and each
place a finished fit leaves goes to the next (the largest m first, which run longest),
so that the slowest fits do not leave the batch nearly empty. An executor running several
tasks at once (``slots``: a cluster's workers) gets :data:`TASKS_PER_SLOT` per slot (none
under :data:`MIN_TASK_FITS` fits), so its workers even out tasks of different cost. Fits
already stored as done are skipped, so running a sweep again continues it, and a config
edited with new axis values runs only the new fits. A task that raises is retried
``retries`` times, then its fits are stored as failed with the error; the sweep goes on.

Tasks run in this process by default (:class:`InProcess`) or on any :class:`Executor`
(:class:`~untrained_cs.sweeps.distributed.DaskExecutor`: a Dask cluster). The process
calling :func:`run_sweep` is the only writer of the store: a task's :class:`Outcome`
(metrics and, when kept, estimates as numpy) comes back to it, stored in one transaction.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from ..operators.registry import rows_for_ratio
from ..pipeline import run, run_batch
from ..problems import CSMeasurement, SmoothSignal, build
from ..record import Record
from ..resources import DENSE_BYTES
from ..runtime import available_cores, tune_process
from ..version import package_version
from .config import Fit, SweepConfig
from .lock import hold
from .store import METRICS, Store, StoreError, row_for


@dataclass(frozen=True)
class Task:
    """Fits run as one unit of work (one batched fit when the operator allows)."""

    index: int
    fits: tuple[Fit, ...]
    #: the most fits computed at once (None: all of them)
    cap: int | None = None


#: tasks per slot of an executor running several at once, and their fewest fits
TASKS_PER_SLOT, MIN_TASK_FITS = 2, 8
#: the most bytes of dense measurement matrices one task holds beyond its first ``batch``
#: fits (all of a task's matrices are built when it starts, queued fits' included)
TASK_MATRIX_BYTES = 1 << 30


def plan(fits: list[Fit], batch: int, task_size: int | None = None, slots: int = 1) -> list[Task]:
    """Group fits that differ only in their seed and, measured by a dense Gaussian matrix,
    in ``measurement.m`` (run_batch pads the matrices to the largest m); split each group
    into tasks of ``task_size`` fits (default ``batch``; fewer when that leaves some of
    the executor's ``slots`` idle, or when their matrices would pass
    :data:`TASK_MATRIX_BYTES`), cut from the fits ordered by m so that a task pads
    little; within a task the largest m comes first, and ``batch`` fits run at once."""
    groups: dict[str, list[Fit]] = {}
    for f in fits:
        groups.setdefault(shape_key(f), []).append(f)
    tasks: list[Task] = []
    for members in groups.values():
        members.sort(key=m_of)  # stable
        size = fits_per_task(len(members), members[-1], batch, task_size, slots)
        for start in range(0, len(members), size):
            chunk = sorted(members[start : start + size], key=m_of, reverse=True)  # stable
            tasks.append(Task(len(tasks), tuple(chunk), batch if len(chunk) > batch else None))
    return tasks


def shape_key(f: Fit) -> str:
    """What the fits of one group share: the spec but the seed and, for a dense Gaussian
    operator given m, the m."""
    shape = {**f.problem.to_dict(), "seed": None, "method": f.method.to_dict()}
    meas = shape["measurement"]
    if meas["kind"] == "cs" and meas["operator"] in DENSE_BYTES and meas["m"] is not None:
        shape["measurement"] = {**meas, "m": None}
    return json.dumps(shape, sort_keys=True)


def fits_per_task(
    count: int, largest: Fit, batch: int, task_size: int | None = None, slots: int = 1
) -> int:
    """The fits of each task cut from a group of ``count`` fits whose largest m is
    ``largest``'s (see :func:`plan`)."""
    # several tasks per slot side by side: workers take the next as they finish (module doc)
    pieces = max(slots, 1) * (TASKS_PER_SLOT if slots > 1 else 1)
    per_slot = -(-count // pieces)
    meas = largest.problem.measurement  # the largest m: every matrix is padded to it
    # a queue needs one batched fit (a dense operator), no hold-out and no ensemble (which
    # compute their members at once): other tasks stay one batch (of K × batch members)
    queues = (
        getattr(meas, "operator", None) in DENSE_BYTES
        and largest.method.stop != "holdout"
        and getattr(largest.method, "ensemble", 1) == 1
    )
    per_memory = TASK_MATRIX_BYTES // _matrix_bytes(largest) if queues else batch
    # one full batch at least, unless slots side by side would otherwise wait for work
    least = min(batch, count) if slots <= 1 else min(batch, count, MIN_TASK_FITS)
    return max(min(task_size or batch, per_slot, per_memory), least)


def m_of(f: Fit) -> int:
    """The fit's measurement count m (0 when given as a ratio, or not a CS fit)."""
    return getattr(f.problem.measurement, "m", None) or 0


def _matrix_bytes(f: Fit) -> int:
    """The bytes of a dense-measured fit's matrix (m × n; n the signal's entries: a
    p-smooth signal's length or a grayscale image's pixels)."""
    signal, meas = f.problem.signal, f.problem.measurement
    assert isinstance(meas, CSMeasurement)  # the planner asks for dense-measured fits only
    n = signal.n if isinstance(signal, SmoothSignal) else int(getattr(signal, "size", 1)) ** 2
    m = meas.m or rows_for_ratio((n,), meas.ratio or 1.0)
    return DENSE_BYTES[meas.operator] * m * n


#: where :func:`run_task` reports how many of its task's fits have finished so far (set by
#: :func:`run_sweep` for the tasks it runs in this process, for the progress bar; a task
#: on a Dask worker runs without it)
FITS_FINISHED: ContextVar[Callable[[int], None] | None] = ContextVar("fits_finished", default=None)


def worker_device() -> str:
    """The device of the process running a task: ``cuda`` when it has a GPU, else ``cpu``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def run_task(task: Task, device: str | None = None) -> list[Record]:
    """The records of a task's fits, in its order, fitted on ``device`` (default: this
    process's, :func:`worker_device`)."""
    device = device or worker_device()
    problems = [build(f.problem) for f in task.fits]
    method = task.fits[0].method
    report = FITS_FINISHED.get()
    callback = None
    if report is not None:
        k = getattr(method, "ensemble", 1)  # an ensemble's K members are one fit

        def callback(rec: dict[str, Any]) -> None:  # at every check: the members stopped
            report(len(task.fits) - -(-(rec["active"] + rec["queued"]) // k))

    try:
        return run_batch(problems, method, device=device, cap=task.cap, callback=callback)
    except ValueError as exc:
        if "run_batch" not in str(exc):
            raise
    records = []
    for p, f in zip(problems, task.fits, strict=True):
        records.append(run(p, f.method, device=device))
        if report is not None:
            report(len(records))
    return records


@dataclass(frozen=True)
class Outcome:
    """What a finished task sends back: per fit, the metrics the store keeps (plain Python
    values) and, when the sweep saves estimates, the estimate as a numpy array."""

    metrics: tuple[dict[str, Any], ...]
    estimates: tuple[np.ndarray, ...] | None = None


@dataclass(frozen=True)
class Work:
    """What runs a task where it is executed: ``runner``, then only what the store needs.

    ``threads`` (when set) is the torch thread count of the executing thread, so that the
    workers sharing a machine do not oversubscribe its cores; else ``host_tasks`` (per host,
    the tasks its Dask workers run at once) gives a task on a worker its host's share of
    the cores.
    """

    runner: Callable[[Task], list[Record]] = run_task
    save_estimates: bool = False
    threads: int | None = None
    host_tasks: Mapping[str, int] | None = None

    def __call__(self, task: Task) -> Outcome:
        # on a worker started by hand nobody tuned the process: denormals alone made the
        # fits several times slower there (bench/RESULTS.md); idempotent, so always
        tune_process()
        threads = self.threads if self.threads is not None else self._share()
        if threads is not None:
            torch.set_num_threads(threads)
        records = self.runner(task)
        metrics = tuple({k: _plain(r.metrics.get(k)) for k in METRICS} for r in records)
        if not self.save_estimates:
            return Outcome(metrics)
        return Outcome(metrics, tuple(r.estimate.detach().cpu().numpy() for r in records))

    def _share(self) -> int | None:
        """On a Dask worker: its host's cores divided by the tasks the host runs at once."""
        if not self.host_tasks:
            return None
        from distributed import get_worker

        try:
            host = worker_host(get_worker().address)
        except ValueError:  # not on a worker
            return None
        tasks = self.host_tasks.get(host)
        return None if not tasks else max(1, available_cores() // tasks)


def worker_host(address: str) -> str:
    """The host part of a worker address (``tcp://10.0.0.2:40123`` → ``10.0.0.2``)."""
    from distributed.comm import parse_address

    _, location = parse_address(address)
    return location.rsplit(":", 1)[0]


class Executor(Protocol):
    """Runs a sweep's tasks; :func:`run_sweep` stores each result as it comes back."""

    def run(
        self, work: Work, tasks: Sequence[Task], retries: int
    ) -> Iterator[tuple[Task, Outcome | str]]:
        """Every task once, in the order they finish, with its outcome or, when all of its
        ``retries + 1`` tries raised, the one-line error of the last."""
        ...


class InProcess:
    """The default executor: tasks one after another in this process."""

    def run(
        self, work: Work, tasks: Sequence[Task], retries: int
    ) -> Iterator[tuple[Task, Outcome | str]]:
        for task in tasks:
            result: Outcome | str = ""
            for _ in range(retries + 1):
                try:
                    result = work(task)
                    break
                except Exception as exc:  # a failing task is recorded, the sweep goes on
                    result = error_line(exc)
            yield task, result


def error_line(exc: BaseException) -> str:
    """How a failed fit's error is stored: the exception's type and first line."""
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"


def run_sweep(
    config: SweepConfig,
    folder: Path,
    *,
    runner: Callable[[Task], list[Record]] = run_task,
    executor: Executor | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Run every fit of ``config`` not yet done in ``folder``; return the status counts of
    the config's fits. Tasks run on ``executor`` (default: :class:`InProcess`); this
    process alone writes the store, one transaction per finished task, holding the
    folder's lock (:func:`~untrained_cs.sweeps.lock.hold`) throughout.

    Raises:
        SweepBusy: another coordinator runs the folder.
        DamagedStore: the store is damaged (nothing runs).
        StoreError: a task's results could not be stored (a full disk): the tasks stored
            before are kept, the failing one left whole to run again.
    """
    fits = config.fits()
    with hold(folder):
        store = Store(folder)
        try:
            _run(config, fits, Path(folder), store, runner, executor, progress)
            return store.counts({f.key for f in fits})
        finally:
            store.close()


def _run(
    config: SweepConfig,
    fits: list[Fit],
    folder: Path,
    store: Store,
    runner: Callable[[Task], list[Record]],
    executor: Executor | None,
    progress: bool,
) -> None:
    """Plan the fits not yet done, run their tasks and store each one as it comes back."""
    done = store.done()
    todo = [f for f in fits if f.key not in done]
    bar = _bar(len(fits), len(fits) - len(todo), progress)
    work, version = Work(runner, config.save_estimates), package_version()
    slots = int(getattr(executor, "slots", 1))  # tasks the executor runs at once
    tasks = plan(todo, config.batch, config.fits_per_task, slots)
    within = _WithinTask(bar)
    token = FITS_FINISHED.set(within.finished if bar is not None else None)
    stored = len(fits) - len(todo)
    try:
        for task, result in (executor or InProcess()).run(work, tasks, config.retries):
            _store(folder, store, task, result, version, stored)
            stored += len(task.fits)
            within.task_done(len(task.fits))
    finally:
        FITS_FINISHED.reset(token)
        if bar is not None:
            bar.close()


def _store(
    folder: Path, store: Store, task: Task, result: Outcome | str, version: str, stored: int
) -> None:
    """Store a finished task's rows (its estimates first); on failure, none of them."""
    try:
        store.write(_rows(folder, task, result, version))
    except BaseException as exc:
        if not isinstance(result, str) and result.estimates is not None:
            for f in task.fits:  # no row, no estimate
                (folder / "estimates" / f"{f.key}.npy").unlink(missing_ok=True)
        if not isinstance(exc, StoreError | OSError):
            raise
        reason = str(exc) if isinstance(exc, StoreError) else f"{exc.strerror or exc}"
        raise StoreError(
            f"could not store the {len(task.fits)} fits of task {task.index} ({reason}); the "
            f"{stored} fits stored before are kept in {folder}: free some space and run the "
            "same command again to continue"
        ) from None


class _WithinTask:
    """Moves the progress bar as the fits of a task running in this process finish (the
    most reported so far, so that a retried task does not count twice), and by the rest
    of a task's fits when its rows are stored."""

    def __init__(self, bar: Any) -> None:
        self.bar, self.shown = bar, 0

    def finished(self, count: int) -> None:
        if count > self.shown:
            self.bar.update(count - self.shown)
            self.shown = count

    def task_done(self, fits: int) -> None:
        if self.bar is not None:
            self.bar.update(max(fits - self.shown, 0))
        self.shown = 0


def _rows(folder: Path, task: Task, result: Outcome | str, version: str) -> list[dict]:
    """The store rows of a finished task (its estimates saved first, so a done row has one;
    each written whole or not at all)."""
    if isinstance(result, str):
        return [row_for(f, task.index, None, result, version) for f in task.fits]
    if result.estimates is not None:
        out = folder / "estimates"
        out.mkdir(exist_ok=True)
        for f, estimate in zip(task.fits, result.estimates, strict=True):
            _save_whole(out / f"{f.key}.npy", estimate)
    return [row_for(f, task.index, m, None, version)
            for f, m in zip(task.fits, result.metrics, strict=True)]  # fmt: skip


def _save_whole(path: Path, array: np.ndarray) -> None:
    """``np.save`` into a temporary file renamed into place: the file is whole or absent."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.save(f, array)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _plain(value: Any) -> Any:
    """A metric as a plain Python value (numpy and 0-d torch scalars unwrapped)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return value


def _bar(total: int, done: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=done, desc="sweep", unit="fit", file=sys.stderr)
