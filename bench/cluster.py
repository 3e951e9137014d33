"""``python -m bench.cluster [--config FILE] [--sides ...] [--json]``: a sweep in process
against the same sweep on Dask clusters started by hand, on this machine's cores.

Every side runs ``untrained-cs sweep run CONFIG --out FRESH_FOLDER`` as a new command (its
import and start-up counted, as a user would wait for them), one side at a time:

* ``in-process``: no cluster;
* ``cluster``: ``dask scheduler`` and ``dask worker --nworkers W --nthreads 1`` (W = the
  cores) started by hand before the sweep, as a user starts them, and the sweep run with
  ``--scheduler``;
* ``one-machine`` / ``two-machines``: two simulated machines, each a worker group pinned
  to its own share of the cores (``taskset``) and listening on its own loopback address
  (127.0.0.1 and 127.0.0.2, so that the sweep sees two hosts); ``one-machine`` starts the
  first group only, ``two-machines`` both. On a 2-core VM each machine has one core.

Reports seconds and fits per second per side, and the ratios: cluster / in-process
throughput, and two machines / one machine. The clusters are stopped after each side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SIDES = ("in-process", "cluster", "one-machine", "two-machines")
DEFAULT_CONFIG = "examples/phase-transition.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command(name: str) -> str:
    """A console script of this environment (beside its python), else on the PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"bench.cluster needs the {name} command (pip install -e '.[cluster]')")
    return found


def _dask() -> str:
    return _command("dask")


@contextmanager
def _cluster(groups: list[tuple[str, list[int], int]]):
    """A scheduler and, per group (host address, CPUs, workers), its pinned workers; yields
    the scheduler's address once every worker has joined."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    scheduler = [_dask(), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]
    procs = [subprocess.Popen(scheduler, **quiet)]
    try:
        for host, cpus, workers in groups:
            cmd = [_dask(), "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                   "--host", host, "--no-dashboard"]  # fmt: skip
            pinned = ["taskset", "-c", ",".join(map(str, cpus)), *cmd]
            procs.append(subprocess.Popen(pinned, **quiet))
        _wait_for(address, sum(g[2] for g in groups))
        yield address
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def _wait_for(address: str, workers: int, timeout: float = 120.0) -> None:
    from distributed import Client

    deadline = time.monotonic() + timeout
    while True:
        try:
            with Client(address, timeout=5) as client:
                client.wait_for_workers(workers, timeout=max(1.0, deadline - time.monotonic()))
                return
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise


def _sweep(config: str, scheduler: str | None) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="bench-cluster-")) / "sweep"
    cmd = [_command("untrained-cs"), "sweep", "run", config, "--out", str(out), "--quiet"]
    if scheduler is not None:
        cmd += ["--scheduler", scheduler]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"sweep failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    fits = _done_fits(out)
    shutil.rmtree(out.parent, ignore_errors=True)
    return {"seconds": round(seconds, 2), "fits": fits,
            "fits_per_s": round(fits / seconds, 3) if fits else None}  # fmt: skip


def _done_fits(folder: Path) -> int:
    """The fits the sweep stored as done."""
    from untrained_cs.sweeps.store import Store

    store = Store(folder, readonly=True)
    try:
        return store.counts().get("done", 0)
    finally:
        store.close()


def run_side(side: str, config: str) -> dict[str, Any]:
    cores = sorted(os.sched_getaffinity(0))
    half = max(1, len(cores) // 2)
    machines = [("127.0.0.1", cores[:half], half), ("127.0.0.2", cores[half:], len(cores) - half)]
    if side == "in-process":
        row = _sweep(config, None)
    elif side == "cluster":
        with _cluster([("127.0.0.1", cores, len(cores))]) as address:
            row = _sweep(config, address)
    elif side == "one-machine":
        with _cluster(machines[:1]) as address:
            row = _sweep(config, address)
    else:
        with _cluster(machines) as address:
            row = _sweep(config, address)
    return {"side": side, **row}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--sides", nargs="+", choices=SIDES, default=list(SIDES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = {side: run_side(side, args.config) for side in args.sides}
    out: dict[str, Any] = {"config": args.config, "cores": len(os.sched_getaffinity(0)),
                           "sides": list(rows.values())}  # fmt: skip

    def rate(side: str) -> float | None:
        return rows[side]["fits_per_s"] if side in rows else None

    if rate("cluster") and rate("in-process"):
        out["cluster_vs_in_process"] = round(rate("cluster") / rate("in-process"), 3)
    if rate("two-machines") and rate("one-machine"):
        out["two_vs_one_machine"] = round(rate("two-machines") / rate("one-machine"), 3)
    print(json.dumps(out) if args.json else json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
