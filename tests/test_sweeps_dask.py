"""Sweeps on Dask: same table as in-process, coordinator and worker crashes, retries, GPU
resource plumbing, the CLI's cluster options and the Parquet export."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")

from distributed import Client, LocalCluster  # noqa: E402

from untrained_cs.cli import main  # noqa: E402
from untrained_cs.runtime import available_cores  # noqa: E402
from untrained_cs.sweeps import Store, parse, run_sweep, run_task  # noqa: E402
from untrained_cs.sweeps.distributed import (  # noqa: E402
    DaskExecutor,
    gpu_resources,
    host_tasks,
    local_cluster,
)
from untrained_cs.sweeps.run import Work  # noqa: E402

BASE = {
    "problem": {
        "signal": {"kind": "smooth", "n": 32, "p": 3},
        "measurement": {"kind": "cs", "operator": "gaussian", "m": 12},
    },
    "method": {"kind": "generator", "generator": "two-layer", "optimizer": "gd", "max_iters": 60},
}
MS = (6, 12, 18)
SEEDS = tuple(range(8))  # 3 m x 8 seeds = 24 fits, 6 tasks of 4 (one m each: m sorted)


def config(save_estimates: bool = False, task_size: int | None = 4):
    # task_size 4: one batch per task, so that tasks (and failures) go by m
    return parse({"base": BASE, "grid": {"measurement.m": list(MS), "seed": list(SEEDS)},
                  "batch": 4, "task_size": task_size,
                  "save_estimates": save_estimates})  # fmt: skip


def table(folder: Path) -> dict[str, dict]:
    store = Store(folder)
    try:
        return {r["key"]: r for r in store.rows()}
    finally:
        store.close()


def expected_device() -> str:
    return "cuda:0" if torch.cuda.is_available() else "cpu"


@pytest.fixture(scope="module")
def client():
    """Two worker processes; a task may lose one worker and run again, not two."""
    cluster = local_cluster(2, allowed_failures=1)
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


# Runners made here are closures, so they travel to the workers by value.


def failing(attempts: Path, m: int):
    def runner(task):
        if task.fits[0].problem.measurement.m == m:
            (attempts / uuid.uuid4().hex).touch()
            raise RuntimeError("boom\nsecond line")
        return run_task(task)

    return runner


def slow_once(marker: Path, index: int):
    """Task ``index``, the first time it runs, records its pid, then waits to be killed."""

    def runner(task):
        if task.index == index and not marker.exists():
            part = marker.with_suffix(".part")
            part.write_text(str(os.getpid()))
            part.rename(marker)
            time.sleep(120)
        return run_task(task)

    return runner


def killing(m: int):
    def runner(task):
        if task.fits[0].problem.measurement.m == m:
            os.kill(os.getpid(), signal.SIGKILL)
        return run_task(task)

    return runner


def test_a_cluster_gives_the_in_process_table(tmp_path, client):
    torch.set_num_threads(1)  # as on the workers (threads=1), so both compute alike
    cfg = config(save_estimates=True, task_size=None)
    assert run_sweep(cfg, tmp_path / "here", progress=False) == {"done": 24}
    executor = DaskExecutor(client, threads=1)
    assert run_sweep(cfg, tmp_path / "dask", executor=executor, progress=False) == {"done": 24}
    assert executor.resources == {}  # no worker declares a GPU
    here, there = table(tmp_path / "here"), table(tmp_path / "dask")
    # 24 fits, batch 4: one task of 16 (4 at once, the rest queued) and one of 8 here; on
    # the two workers at least two tasks of at most 12 (each queued as well)
    assert sorted(Counter(r["task"] for r in here.values()).values()) == [8, 16]
    assert max(Counter(r["task"] for r in there.values()).values()) <= 12
    assert set(here) == set(there) == {f.key for f in cfg.fits()}
    for key, row in here.items():
        other = there[key]
        for name in ("rel_error", "psnr", "mse", "best_psnr"):
            assert other[name] == pytest.approx(row[name], rel=1e-5, abs=1e-9), name
        assert other["iterations"] == row["iterations"]
        assert other["device"] == expected_device()
        mine, theirs = (
            np.load(tmp_path / d / "estimates" / f"{key}.npy") for d in ("here", "dask")
        )
        assert mine.size == 32 and np.allclose(theirs, mine, rtol=1e-5, atol=1e-7)


def test_gpu_workers_get_one_task_per_gpu_resource(tmp_path):
    assert gpu_resources({"a": {"resources": {}}, "b": {"resources": {"GPU": 1}}}) == {"GPU": 1}
    assert gpu_resources({"a": {"resources": {}}, "b": {}}) == {}
    cfg = parse({"base": BASE, "grid": {"measurement.m": [6, 12], "seed": [0, 1]}})
    # a worker thread in this process declaring a GPU: the resource plumbing, fits on cpu
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                           dashboard_address=None, resources={"GPU": 1})  # fmt: skip
    try:
        with Client(cluster, set_as_default=False) as c:
            executor = DaskExecutor(c)
            assert run_sweep(cfg, tmp_path, executor=executor, progress=False) == {"done": 4}
            assert executor.resources == {"GPU": 1}  # tasks asked for it, and ran
    finally:
        cluster.close()
    assert {r["device"] for r in table(tmp_path).values()} == {expected_device()}


@pytest.mark.slow  # end to end: scripts/test.sh runs it after the fast suite
def test_a_coordinator_killed_mid_sweep_loses_nothing_and_reruns_nothing(tmp_path, client):
    path, out = tmp_path / "sweep.yaml", tmp_path / "sweep"
    path.write_text(
        "base:\n  problem: {signal: {kind: smooth, n: 32, p: 3}, "
        "measurement: {kind: cs, operator: gaussian, m: 12}}\n"
        "  method: {generator: two-layer, optimizer: gd, max_iters: 300}\n"
        f"grid: {{measurement.m: {list(MS)}, seed: {list(SEEDS)}}}\nbatch: 4\n"
    )
    cmd = [sys.executable, "-m", "untrained_cs.cli", "sweep", "run", str(path), "--out",
           str(out), "--workers", "1", "--quiet"]  # fmt: skip
    with open(tmp_path / "stderr.txt", "w") as err:
        # its own session: the coordinator and its worker are killed together
        proc = subprocess.Popen(cmd, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while stored(out) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {k: r["created"] for k, r in table(out).items()}
    assert 0 < len(before) < 24 and len(before) % 4 == 0, (tmp_path / "stderr.txt").read_text()
    address = client.scheduler.address
    assert main(["sweep", "run", str(path), "--out", str(out), "--scheduler", address,
                 "--quiet"]) == 0  # fmt: skip
    db = sqlite3.connect(out / "results.sqlite")
    try:
        total, keys, done = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT key), SUM(status = 'done') FROM fits"
        ).fetchone()
    finally:
        db.close()
    assert total == keys == done == 24
    after = table(out)
    assert all(after[k]["created"] == created for k, created in before.items())  # not rerun


def stored(folder: Path) -> int:
    """Rows in a sweep's store, 0 while it does not exist yet."""
    if not (folder / "results.sqlite").exists():
        return 0
    db = sqlite3.connect(folder / "results.sqlite", timeout=5)
    try:
        return db.execute("SELECT COUNT(*) FROM fits").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0
    finally:
        db.close()


def test_a_task_raising_on_the_cluster_is_retried_then_recorded(tmp_path, client):
    attempts = tmp_path / "attempts"
    attempts.mkdir()
    counts = run_sweep(config(), tmp_path / "sweep", runner=failing(attempts, 6),
                       executor=DaskExecutor(client), progress=False)  # fmt: skip
    assert counts == {"done": 16, "failed": 8}
    assert len(list(attempts.iterdir())) == 2 * 2  # two tasks of m = 6, retries = 1
    rows = table(tmp_path / "sweep").values()
    failed = [r for r in rows if r["status"] == "failed"]
    assert {r["measurement_m"] for r in failed} == {6}
    assert {r["error"] for r in failed} == {"RuntimeError: boom"}
    assert all(r["psnr"] is None for r in failed)


def test_a_worker_killed_mid_task_costs_only_a_rerun_of_that_task(tmp_path, client):
    marker = tmp_path / "running"
    killed: list[int] = []

    def kill_when_running():
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = int(marker.read_text())
        if pid in client.run(os.getpid).values():  # it is one of the cluster's workers
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    killer = threading.Thread(target=kill_when_running, daemon=True)
    killer.start()
    counts = run_sweep(config(), tmp_path / "sweep", runner=slow_once(marker, 2),
                       executor=DaskExecutor(client), progress=False)  # fmt: skip
    killer.join(timeout=5)
    assert len(killed) == 1 and counts == {"done": 24}
    assert len(table(tmp_path / "sweep")) == 24


def test_a_task_that_kills_its_workers_ends_as_failed_rows(tmp_path, client):
    client.wait_for_workers(2, timeout=60)  # the worker killed before is back
    counts = run_sweep(config(), tmp_path, runner=killing(18), executor=DaskExecutor(client),
                       progress=False)  # fmt: skip
    assert counts == {"done": 16, "failed": 8}
    failed = [r for r in table(tmp_path).values() if r["status"] == "failed"]
    assert {r["measurement_m"] for r in failed} == {18}
    assert all(r["error"].startswith("KilledWorker: ") for r in failed)


def run_cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse-level errors
        return int(exc.code or 0)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--workers", "0"], "--workers: must be >= 1"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "not allowed with"),
        (["--scheduler", "localhost"], "expected a scheduler address like tcp://HOST:8786"),
        (["--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answered within 0.5 s"),
    ],
)
def test_cli_cluster_options_exit_2_with_one_line(tmp_path, capsys, monkeypatch, options,
                                                  message):  # fmt: skip
    monkeypatch.setattr("untrained_cs.sweeps.distributed.CONNECT_TIMEOUT", 0.5)
    path, out = tmp_path / "c.yaml", tmp_path / "sweep"
    path.write_text(f"base: {BASE}\n".replace("'", ""))
    assert run_cli(["sweep", "run", str(path), "--out", str(out), *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_a_cluster_without_workers_fails_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("untrained_cs.sweeps.distributed.WORKER_WAIT", 0.5)
    path = tmp_path / "c.yaml"
    path.write_text(f"base: {BASE}\n".replace("'", ""))
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as empty:
        argv = ["sweep", "run", str(path), "--out", str(tmp_path / "sweep"), "--scheduler",
                empty.scheduler_address, "--quiet"]  # fmt: skip
        assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no Dask worker joined the scheduler" in err[0]


def test_parquet_export_has_the_csv_rows_and_columns_with_types(tmp_path, capsys):
    cfg = parse({"base": BASE, "grid": {"measurement.m": [6, 12], "seed": [0, 1, 2]},
                 "batch": 3, "task_size": 3})  # fmt: skip
    attempts = tmp_path.parent / f"{tmp_path.name}-attempts"
    attempts.mkdir()
    # the first task stored fails: its empty metrics must not make later numbers text
    assert run_sweep(cfg, tmp_path, runner=failing(attempts, 6), progress=False) == {
        "done": 3, "failed": 3}  # fmt: skip
    assert main(["sweep", "export", str(tmp_path)]) == 0
    assert main(["sweep", "export", str(tmp_path), "--format", "parquet"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("6 rows -> ")
    with open(tmp_path / "results.csv", newline="") as f:
        reader = csv.DictReader(f)
        names, rows = reader.fieldnames, list(reader)
    parquet = pq.read_table(tmp_path / "results.parquet")
    assert parquet.num_rows == len(rows) == 6 and parquet.column_names == names
    types = {f.name: str(f.type) for f in parquet.schema}
    assert types["psnr"] == types["rel_error"] == types["created"] == "double"
    assert types["seed"] == types["measurement_m"] == types["iterations"] == "int64"
    assert types["status"] == types["key"] == types["error"] == types["device"] == "string"
    for text_row, row in zip(rows, parquet.to_pylist(), strict=True):
        for name in names:
            value, text = row[name], text_row[name]
            if value is None:
                assert text == ""
            elif isinstance(value, float):
                assert float(text) == pytest.approx(value, rel=1e-12)
            else:
                assert str(value) == text
    assert sum(r["psnr"] is None for r in parquet.to_pylist()) == 3


def test_host_tasks_sum_the_nthreads_of_each_hosts_workers():
    workers = {"tcp://10.0.0.1:4001": {"nthreads": 1}, "tcp://10.0.0.1:4002": {"nthreads": 1},
               "tcp://10.0.0.2:4001": {"nthreads": 4}}  # fmt: skip
    assert host_tasks(workers) == {"10.0.0.1": 2, "10.0.0.2": 4}


def test_a_task_on_a_hand_started_cluster_takes_its_hosts_share_of_the_cores(client):
    # two one-thread workers on this host: each task gets cores // 2 torch threads, not
    # every core (which two co-located workers would oversubscribe)
    work = Work(host_tasks=host_tasks(client.scheduler_info()["workers"]))
    assert work._share() is None  # not on a worker
    got = client.submit(work._share, pure=False).result()
    assert got == max(1, available_cores() // 2)
