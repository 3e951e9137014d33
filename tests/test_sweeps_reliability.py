"""Sweeps under stress: two coordinators, a damaged store, a newer store, a full disk, a plan
before a huge grid. Each case asserts the exit code, the one-line message and that nothing
stored is lost."""

from __future__ import annotations

import errno
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from untrained_cs.cli import main
from untrained_cs.sweeps import SweepBusy, parse, run_sweep, run_task, store
from untrained_cs.sweeps.lock import LOCK_NAME, hold
from untrained_cs.sweeps.store import DB_NAME, STORE_FORMAT, Store, salvage

CONFIG = """\
base:
  problem: {signal: {kind: smooth, n: 32, p: 3}, measurement: {kind: cs, m: 12}}
  method: {generator: two-layer, optimizer: gd, max_iters: 40}
grid: {measurement.m: [6, 12, 20], seed: [0, 1, 2]}
batch: 3
task_size: 3
save_estimates: true
"""
LOCK_FILE = Path(__file__).parents[1] / "src" / "untrained_cs" / "sweeps" / "lock.py"


@pytest.fixture
def sweep(tmp_path):
    """A config of 9 fits in 3 tasks of 3, and the sweep folder it runs into."""
    path = tmp_path / "sweep.yaml"
    path.write_text(CONFIG)
    return path, tmp_path / "sweep"


def cli(capsys, *argv) -> tuple[int, list[str], list[str]]:
    """Exit code, stdout lines and stderr lines of one command."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.strip().splitlines()


def stored(folder: Path) -> dict[str, tuple]:
    """key → (status, task, created) of every stored row, read with plain sqlite3."""
    db = sqlite3.connect(folder / DB_NAME)
    try:
        return {k: (s, t, c) for k, s, t, c in db.execute(
            "SELECT key, status, task, created FROM fits")}  # fmt: skip
    finally:
        db.close()


def estimates(folder: Path) -> set[str]:
    """The keys of the saved estimates."""
    saved = folder / "estimates"
    return {p.stem for p in saved.iterdir()} if saved.exists() else set()


def first_task_stored(sweep, capsys) -> dict[str, tuple]:
    """Run the sweep with its second task failing hard (KeyboardInterrupt), so that the
    folder holds exactly the first task."""
    path, out = sweep
    with pytest.MonkeyPatch.context() as m:
        calls = [0]
        real = store.Store._insert

        def insert(self, rows):
            calls[0] += 1
            if calls[0] == 2:
                raise KeyboardInterrupt
            return real(self, rows)

        m.setattr(store.Store, "_insert", insert)
        assert main(["sweep", "run", str(path), "--out", str(out), "--quiet"]) == 130
    capsys.readouterr()
    rows = stored(out)
    assert len(rows) == 3 and estimates(out) == set(rows)
    return rows


# --- one coordinator per folder ----------------------------------------------------------


def hold_in_subprocess(folder: Path) -> subprocess.Popen:
    """Another process holding the folder's lock (lock.py alone: no torch to import)."""
    code = (
        "import importlib.util, sys, time\n"
        f"spec = importlib.util.spec_from_file_location('lock', {str(LOCK_FILE)!r})\n"
        "lock = importlib.util.module_from_spec(spec); spec.loader.exec_module(lock)\n"
        f"with lock.hold(__import__('pathlib').Path({str(folder)!r})):\n"
        "    print('held', flush=True); time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_coordinator_is_refused_naming_the_holder_and_a_killed_one_frees_it(sweep, capsys):
    path, out = sweep
    before = first_task_stored(sweep, capsys)
    holder = hold_in_subprocess(out)
    try:
        code, lines, err = cli(capsys, "sweep", "run", path, "--out", out, "--quiet")
        assert code == 2 and len(err) == 1 and not lines
        assert f"PID {holder.pid} on host {socket.gethostname()}" in err[0]
        assert err[0].startswith("untrained-cs sweep run: error: ") and "one coordinator" in err[0]
        # readers take no lock
        code, lines, err = cli(capsys, "sweep", "status", out)
        assert code == 0 and lines[-1].startswith("3 done, 0 failed, 6 to do of 9")
    finally:
        holder.send_signal(signal.SIGKILL)  # dies holding the lock: the OS releases it
        holder.wait()
    assert stored(out) == before  # the refused coordinator touched nothing
    code, lines, _ = cli(capsys, "sweep", "run", path, "--out", out, "--quiet")
    assert code == 0 and lines[-1].startswith("9 done, 0 failed, 0 to do of 9")
    after = stored(out)
    assert all(after[k] == v for k, v in before.items())  # not run again
    assert estimates(out) == set(after)


def test_two_coordinators_in_one_process_and_readers_while_one_writes(tmp_path, capsys):
    cfg = parse({"base": {"problem": {"signal": {"kind": "smooth", "n": 32, "p": 3},
                                      "measurement": {"kind": "cs", "m": 12}},
                          "method": {"generator": "two-layer", "optimizer": "gd",
                                     "max_iters": 40}},
                 "grid": {"seed": [0, 1, 2, 3]}, "batch": 2, "task_size": 2})  # fmt: skip
    first_stored, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def runner(task):
        calls.append(task.index)
        if len(calls) == 2:  # the first task is stored: hold the coordinator mid-sweep
            first_stored.set()
            release.wait(60)
        return run_task(task)

    result: list = []
    coordinator = threading.Thread(
        target=lambda: result.append(run_sweep(cfg, tmp_path, runner=runner, progress=False))
    )
    coordinator.start()
    try:
        assert first_stored.wait(60)
        with pytest.raises(SweepBusy, match="another thread of this process"):
            run_sweep(cfg, tmp_path, progress=False)
        # a writer's open transaction does not block the readers either
        other = sqlite3.connect(tmp_path / DB_NAME)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO fits (key, status) VALUES ('uncommitted', 'done')")
        code, lines, err = cli(capsys, "sweep", "export", tmp_path)
        assert code == 0 and lines == [f"2 rows -> {tmp_path / 'results.csv'}"] and not err
        other.rollback()
        other.close()
    finally:
        release.set()
        coordinator.join(60)
    assert result == [{"done": 4}] and len(calls) == 2  # the refused one ran nothing


def test_the_lock_is_reentrant_in_its_thread_and_a_new_folder_is_tidied(tmp_path):
    folder = tmp_path / "new"
    with hold(folder):
        with hold(folder):  # the command line locks, then run_sweep locks again
            assert (folder / LOCK_NAME).exists()
    assert not folder.exists()  # it held nothing but the lock file: removed again


# --- a damaged store -----------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "not a database"])
def test_a_damaged_store_is_refused_and_export_saves_what_can_be_read(sweep, capsys, damage):
    path, out = sweep
    assert main(["sweep", "run", str(path), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    db = out / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"x" * len(data))
    damaged = db.read_bytes()
    runs = [["sweep", "run", path, "--out", out, option] for option in ("--quiet", "--dry-run")]
    for argv in (["sweep", "status", out], ["sweep", "report", out], *runs):
        code, lines, err = cli(capsys, *argv)
        assert code == 2 and len(err) == 1, (argv, err)
        assert "is damaged" in err[0] and f"untrained-cs sweep export {out}" in err[0]
        assert "move results.sqlite (and its -wal, -shm files) aside, then run the sweep" in err[0]
        assert not any("plan" in line for line in lines)
    code, lines, err = cli(capsys, "sweep", "export", out)
    assert code == 0 and len(err) == 1 and "warning" in err[0] and "is damaged" in err[0]
    salvaged = out / "results.salvaged.csv"
    assert lines == [f"{len(salvage(out)[0])} rows -> {salvaged}"] and salvaged.exists()
    assert db.read_bytes() == damaged  # read only: nothing changed, nothing lost


def test_salvage_reads_the_rows_before_and_after_a_damaged_page(tmp_path):
    db = sqlite3.connect(tmp_path / DB_NAME)
    db.execute("CREATE TABLE fits (key TEXT PRIMARY KEY, status TEXT, pad TEXT)")
    with db:
        db.executemany("INSERT INTO fits VALUES (?, 'done', ?)",
                       [(f"k{i:04d}", "x" * 300) for i in range(400)])  # fmt: skip
    db.close()
    assert len(salvage(tmp_path)[0]) == 400 and salvage(tmp_path)[1]
    with open(tmp_path / DB_NAME, "r+b") as f:  # zero one page in the middle of the table
        f.seek(4096 * 20)
        f.write(b"\0" * 4096)
    with pytest.raises(store.DamagedStore):
        Store(tmp_path, readonly=True)
    rows, complete = salvage(tmp_path)
    keys = [r["key"] for r in rows]
    assert not complete and 350 < len(rows) < 400 and "k0000" in keys and "k0399" in keys


def test_a_store_of_a_newer_format_is_refused_naming_its_version(sweep, capsys):
    path, out = sweep
    first_task_stored(sweep, capsys)
    db = sqlite3.connect(out / DB_NAME)
    with db:
        db.execute(f"PRAGMA user_version = {STORE_FORMAT + 1}")
        db.execute("UPDATE meta SET value = '9.9.9' WHERE name = 'version'")
    db.close()
    for argv in (["sweep", "status", out], ["sweep", "run", path, "--out", out, "--quiet"]):
        code, _, err = cli(capsys, *argv)
        assert code == 2 and len(err) == 1
        assert "written by untrained-cs 9.9.9" in err[0] and "store format" in err[0]
    assert len(stored(out)) == 3


# --- a full disk -----------------------------------------------------------------------------


def enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def full_at_second_task(monkeypatch, how: str) -> None:
    """The disk fills up when the second task is stored: its transaction (an OSError, or
    SQLite's own "database or disk is full") or the save of its estimates fails."""
    calls = [0]
    if how == "estimates":
        real_save = np.save

        def save(file, array, *args, **kwargs):
            calls[0] += 1
            if calls[0] == 4:  # the second task's first estimate
                raise enospc()
            return real_save(file, array, *args, **kwargs)

        monkeypatch.setattr(np, "save", save)
        return
    real = store.Store._insert

    def insert(self, rows):
        calls[0] += 1
        if calls[0] == 2:
            if how == "oserror":
                raise enospc()
            pages = self.db.execute("PRAGMA page_count").fetchone()[0]
            self.db.execute(f"PRAGMA max_page_count = {pages}")  # no room left ...
            self.db.execute("INSERT INTO fits (key, status, error) "  # ... for a megabyte
                            "VALUES ('filler', 'done', zeroblob(1048576))")  # fmt: skip
        return real(self, rows)

    monkeypatch.setattr(store.Store, "_insert", insert)


@pytest.mark.parametrize("how", ["oserror", "sqlite full", "estimates"])
def test_a_full_disk_stops_the_sweep_in_one_line_keeping_every_stored_task(
    sweep, capsys, monkeypatch, how
):
    path, out = sweep
    with monkeypatch.context() as m:
        full_at_second_task(m, how)
        code, _, err = cli(capsys, "sweep", "run", path, "--out", out, "--quiet")
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith("untrained-cs sweep run: error: could not store the 3 fits of task")
    assert "the 3 fits stored before are kept" in err[0] and "run the same command again" in err[0]
    assert ("full" in err[0]) if how == "sqlite full" else ("No space left on device" in err[0])
    before = stored(out)
    assert len(before) == 3 and {v[0] for v in before.values()} == {"done"}
    assert estimates(out) == set(before)  # no estimate without its row, none half written
    assert not [p for p in (out / "estimates").iterdir() if p.name.startswith(".")]
    code, lines, _ = cli(capsys, "sweep", "run", path, "--out", out, "--quiet")
    assert code == 0 and lines[-1].startswith("9 done, 0 failed, 0 to do of 9")
    after = stored(out)
    assert all(after[k] == v for k, v in before.items()) and estimates(out) == set(after)


def test_a_full_disk_when_the_config_is_copied_is_one_line(sweep, capsys, monkeypatch):
    path, out = sweep
    real = Path.write_bytes

    def write_bytes(self, data):
        if self.name.startswith(".config.yaml"):
            raise enospc()
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    code, _, err = cli(capsys, "sweep", "run", path, "--out", out, "--quiet")
    assert code == 1 and len(err) == 1 and "could not write" in err[0] and "config.yaml" in err[0]
    assert not out.exists()  # the folder held only its lock: nothing of it is left


# --- the plan before a sweep ----------------------------------------------------------------


def test_the_plan_comes_first_and_a_dry_run_writes_nothing(sweep, capsys):
    path, out = sweep
    code, lines, err = cli(capsys, "sweep", "run", path, "--out", out, "--dry-run")
    assert code == 0 and not err and not out.exists()
    assert lines[0] == "plan: 9 fits in 3 tasks (1 shape)"
    assert lines[1].startswith("estimate: ") and "on this machine's CPU" in lines[1]
    assert len(lines) == 2
    first_task_stored(sweep, capsys)
    code, lines, _ = cli(capsys, "sweep", "run", path, "--out", out, "--quiet")
    assert code == 0 and lines[0] == "plan: 9 fits in 3 tasks (1 shape); 3 already done"
    assert lines[-1].startswith("9 done")


def test_a_grid_of_a_million_fits_is_refused_with_its_count_before_expanding(tmp_path, capsys):
    path = tmp_path / "huge.yaml"
    grid = f"grid: {{measurement.m: [6, 12, 20, 24], seed: {list(range(250_000))}}}"
    path.write_text(CONFIG.replace("grid: {measurement.m: [6, 12, 20], seed: [0, 1, 2]}", grid))
    start = time.perf_counter()
    code, lines, err = cli(capsys, "sweep", "run", path, "--out", tmp_path / "s", "--dry-run")
    assert time.perf_counter() - start < 15
    assert code == 2 and len(err) == 1 and not lines
    assert "1000000 fits (4 (measurement.m) × 250000 (seed))" in err[0]
    assert "at most 500000" in err[0] and "split it into several sweeps" in err[0]


def test_a_grid_of_three_hundred_thousand_fits_is_planned_within_seconds(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    path.write_text(CONFIG.replace("seed: [0, 1, 2]", "seed: " + str(list(range(100_000)))))
    start = time.perf_counter()
    code, lines, err = cli(capsys, "sweep", "run", path, "--out", tmp_path / "s", "--dry-run")
    assert time.perf_counter() - start < 15 and code == 0 and not err
    # the counts of the real planner: 100000 fits per m in one group, cut in tasks of 3
    assert lines[0] == "plan: 300000 fits in 100000 tasks (1 shape)"
    assert lines[1].startswith("estimate: at most ")


def test_a_bad_combination_of_good_axis_values_stops_before_the_plan(tmp_path, capsys):
    # each value is fine with the others' first values; n = 8 with p = 16 is not
    path = tmp_path / "c.yaml"
    grid = "grid: {signal.n: [64, 8], signal.p: [3, 16]}"
    path.write_text(CONFIG.replace("grid: {measurement.m: [6, 12, 20], seed: [0, 1, 2]}", grid))
    code, lines, err = cli(capsys, "sweep", "run", path, "--out", tmp_path / "s", "--quiet")
    assert code == 2 and not lines and len(err) == 1
    assert err[0].startswith("untrained-cs sweep run: error: sweep fit (signal.n=8, signal.p=16")
    assert "p must be <= n" in err[0] and not (tmp_path / "s").exists()
