"""Running a sweep's tasks on a Dask cluster, the coordinator staying the store's only writer.

:class:`DaskExecutor` submits every task to the cluster (a worker runs
:class:`~untrained_cs.sweeps.run.Work` on it) and hands each result back to
:func:`~untrained_cs.sweeps.run.run_sweep` as it completes, which stores it in one
transaction. A task that raises is submitted again, ``retries`` times, then reported with
its error. A task running on a worker process that dies is rescheduled by the Dask scheduler
itself, at most ``allowed-failures`` times (a scheduler setting); past that it fails with
``KilledWorker`` and is reported at once, without the retries, since every further try would
cost another worker.

When the cluster's workers declare a ``GPU`` resource (``dask worker --resources GPU=1``),
tasks ask for one, so that a GPU runs one task at a time; the worker fits on ``cuda`` when it
has one (:func:`~untrained_cs.sweeps.run.worker_device`).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import dask
from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, as_completed
from distributed import TimeoutError as DaskTimeout
from distributed.comm import parse_address
from distributed.comm.addressing import parse_host_port
from distributed.comm.registry import get_backend

from .run import Outcome, Task, Work, error_line, worker_host

#: reruns a task gets after the death of its worker before it fails (KilledWorker), on the
#: clusters started here
ALLOWED_FAILURES = 3
#: seconds to reach a scheduler given by its address
CONNECT_TIMEOUT = 10.0
#: seconds to wait for a first worker to join the cluster before giving up
WORKER_WAIT = 120.0
#: times a task whose finished result was lost with its worker is submitted again
LOST_RESUBMITS = 3


class DaskExecutor:
    """Runs tasks on the Dask cluster of ``client``.

    ``threads``: torch threads per task (None: each task takes its share of its host's
    cores: the cores divided by the tasks the host's workers run at once, their Dask
    ``nthreads`` summed, so that co-located workers never oversubscribe). ``resources``: what
    each task asks of a worker; by default one ``GPU`` when the cluster's workers have GPUs
    (decided when the tasks are submitted), else nothing.
    """

    def __init__(
        self,
        client: Client,
        threads: int | None = None,
        resources: dict[str, float] | None = None,
    ) -> None:
        self.client = client
        self.threads = threads
        self.resources = resources

    @property
    def slots(self) -> int:
        """Tasks the cluster runs at once now (its workers' threads, or GPUs when it has
        them), so that the sweep cuts at least that many tasks; 1 before workers join."""
        workers = self.client.scheduler_info().get("workers", {})
        if gpu_resources(workers):
            gpus = (w.get("resources", {}).get("GPU", 0) for w in workers.values())
            return max(1, int(sum(gpus)))
        return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))

    def run(
        self, work: Work, tasks: Sequence[Task], retries: int
    ) -> Iterator[tuple[Task, Outcome | str]]:
        if not tasks:
            return
        self._wait_for_workers()
        if self.resources is None:
            self.resources = gpu_resources(self.client.scheduler_info()["workers"])
        if self.threads is not None:
            work = replace(work, threads=self.threads)
        else:
            work = replace(work, host_tasks=host_tasks(self.client.scheduler_info()["workers"]))
        # keys unique to this run: a scheduler shared with other sweeps never mixes them up
        prefix = f"sweep-{uuid.uuid4().hex[:8]}"
        # per key: the task, the tries that raised so far, the results lost so far (counted
        # apart, so that lost results never use up the retries of a task that raises)
        tries: dict[str, tuple[Task, int, int]] = {}

        def submit(task: Task, raised: int, lost: int) -> Any:
            key = f"{prefix}-{task.index}-{raised}-{lost}"
            tries[key] = (task, raised, lost)
            return self.client.submit(work, task, key=key, pure=False,
                                      resources=self.resources or None)  # fmt: skip

        pending = as_completed([submit(t, 0, 0) for t in tasks], loop=self.client.loop)
        for future in pending:
            task, raised, lost = tries.pop(future.key)
            if future.status == "finished":
                yield task, future.result()
                continue
            if future.status == "lost" and lost < LOST_RESUBMITS:
                # it finished, but the worker holding its result died before it came back
                pending.add(submit(task, raised, lost + 1))
                continue
            if future.status != "error":  # cancelled: the scheduler went away or dropped us
                raise RuntimeError(
                    f"the Dask cluster lost task {task.index} ({future.status}); "
                    "run again to continue the sweep"
                )
            exc = future.exception()
            if raised < retries and not isinstance(exc, KilledWorker):
                pending.add(submit(task, raised + 1, lost))
            else:
                yield task, error_line(exc)

    def _wait_for_workers(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=WORKER_WAIT)
        except (TimeoutError, DaskTimeout):
            address = getattr(self.client.scheduler, "address", "")
            raise RuntimeError(
                f"no Dask worker joined the scheduler {address} within {WORKER_WAIT:g} s"
            ) from None


def gpu_resources(workers: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """``{"GPU": 1}`` when a worker of the cluster (``scheduler_info()["workers"]``) declares
    a GPU resource, else nothing (tasks then run anywhere)."""
    has_gpu = any(w.get("resources", {}).get("GPU", 0) >= 1 for w in workers.values())
    return {"GPU": 1} if has_gpu else {}


def local_cluster(
    workers: int,
    *,
    allowed_failures: int = ALLOWED_FAILURES,
    resources: dict[str, float] | None = None,
) -> LocalCluster:
    """A Dask ``LocalCluster`` of ``workers`` processes of one thread each, on this host.

    Each worker takes one task at a time (worker saturation 1), so a worker that dies
    takes only the task it was running with it; the scheduler reschedules that task at
    most ``allowed_failures`` times. No dashboard (no port to collide with).
    """
    settings = {"distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(settings):
        return LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            scheduler_port=0, dashboard_address=None, silence_logs=logging.ERROR,
            scheduler_kwargs={"allowed_failures": allowed_failures,
                              # its HTTP server (health, metrics) on a free port, not 8787
                              "dashboard_address": "127.0.0.1:0"},
            resources=resources,
        )  # fmt: skip


def host_tasks(workers: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    """Per host (of the workers' addresses), the tasks its workers run at once: the sum of
    their ``nthreads``."""
    out: dict[str, int] = {}
    for address, info in workers.items():
        host = worker_host(address)
        out[host] = out.get(host, 0) + int(info.get("nthreads", 1))
    return out


def threads_per_worker(workers: int) -> int:
    """Torch threads for each of ``workers`` processes sharing this host's cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // workers)


def connect(address: str) -> Client:
    """A client of the scheduler at ``address`` (ValueError, one line: malformed, unreachable)."""
    try:
        scheme, location = parse_address(address, strict=True)
        get_backend(scheme)
        if scheme != "inproc":
            parse_host_port(location)
    except ValueError:
        raise ValueError(
            f"--scheduler {address!r}: expected a scheduler address like tcp://HOST:8786"
        ) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except OSError:
        raise ValueError(
            f"--scheduler {address}: no Dask scheduler answered within {CONNECT_TIMEOUT:g} s"
        ) from None


class WorkerSetup(WorkerPlugin):
    """Calls ``function`` in every worker process, those started later (restarts) included."""

    def __init__(self, function: Callable[[], None]) -> None:
        self.function = function

    def setup(self, worker: Any) -> None:
        self.function()


@contextmanager
def dask_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    setup: Callable[[], None] | None = None,
) -> Iterator[DaskExecutor]:
    """An executor on a new local cluster of ``workers`` processes, or on the running cluster
    at ``scheduler``; the cluster (when started here) and the client close on exit.

    ``setup`` runs in each local worker process (e.g. the command line's process tuning); a
    running cluster's workers are left as they are.
    """
    if (workers is None) == (scheduler is None):
        raise ValueError("give either a number of local workers or a scheduler address")
    cluster = None
    if workers is not None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        cluster = local_cluster(workers)
        client = Client(cluster, set_as_default=False)
        if setup is not None:
            client.register_plugin(WorkerSetup(setup))
        threads = threads_per_worker(workers)
    else:
        assert scheduler is not None
        client, threads = connect(scheduler), None
    try:
        yield DaskExecutor(client, threads)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
