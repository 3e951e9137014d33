"""Sweeps (in-process core): expansion, batched tasks, the store, resume, failures, CLI."""

from __future__ import annotations

import pytest

from untrained_cs.cli import main
from untrained_cs.pipeline import run
from untrained_cs.problems import build
from untrained_cs.sweeps import Store, parse, plan, run_sweep, run_task
from untrained_cs.sweeps.run import FITS_FINISHED

BASE = {
    "problem": {
        "signal": {"kind": "smooth", "n": 32, "p": 3},
        "measurement": {"kind": "cs", "operator": "gaussian", "m": 12},
    },
    "method": {"kind": "generator", "generator": "two-layer", "optimizer": "gd", "max_iters": 60},
}


def config(seeds=(0, 1, 2), ms=(6, 12), task_size=3):
    # batch 3: the fits of different m pack into one group, ordered by m, so tasks of
    # three are one task per m
    return parse({"base": BASE, "grid": {"measurement.m": list(ms), "seed": list(seeds)},
                  "batch": 3, "task_size": task_size})  # fmt: skip


def counting(calls):
    def runner(task):
        calls.append(len(task.fits))
        return run_task(task)

    return runner


def test_grid_runs_batched_and_a_second_run_does_nothing(tmp_path):
    cfg = config()
    assert len(cfg.fits()) == 6 and len(plan(cfg.fits(), cfg.batch, 3)) == 2  # one per m
    calls: list[int] = []
    assert run_sweep(cfg, tmp_path, runner=counting(calls), progress=False) == {"done": 6}
    assert calls == [3, 3]
    assert run_sweep(cfg, tmp_path, runner=counting(calls), progress=False) == {"done": 6}
    assert calls == [3, 3]  # nothing ran again


def test_new_axis_values_add_only_the_new_fits(tmp_path):
    run_sweep(config(), tmp_path, progress=False)
    calls: list[int] = []
    counts = run_sweep(config(seeds=(0, 1, 2, 3)), tmp_path, runner=counting(calls),
                       progress=False)  # fmt: skip
    assert counts == {"done": 8} and calls == [2]  # the new seed's two m, one task


@pytest.mark.parametrize("ms", [(12,), (6, 12, 20)], ids=["one-task-per-batch", "queued"])
def test_a_stored_row_matches_a_single_run(tmp_path, ms):
    # (6, 12, 20) × 2 seeds is one task of six fits, three computed at once: the others
    # queue and start later, counting their iterations from their own start
    cfg = config(seeds=(4, 5), ms=ms, task_size=None)
    tasks = plan(cfg.fits(), cfg.batch, cfg.fits_per_task)
    assert [(len(t.fits), t.cap) for t in tasks] == ([(2, None)] if len(ms) == 1 else [(6, 3)])
    run_sweep(cfg, tmp_path, progress=False)
    store = Store(tmp_path)
    rows = {r["key"]: r for r in store.rows()}
    store.close()
    for fit in cfg.fits():
        single = run(build(fit.problem), fit.method, device="cpu")
        row = rows[fit.key]
        assert single.key == fit.key
        assert row["rel_error"] == pytest.approx(single.metrics["rel_error"], rel=1e-3)
        assert (row["iterations"], row["stop_reason"]) == (
            single.metrics["iterations"],
            single.metrics["stop_reason"],
        )
        assert row["signal_p"] == 3 and row["measurement_m"] == fit.problem.measurement.m


def test_a_failing_task_is_retried_then_recorded_while_the_others_finish(tmp_path):
    attempts: list[int] = []

    def runner(task):
        if task.fits[0].problem.measurement.m == 6:
            attempts.append(1)
            raise RuntimeError("boom\nsecond line")
        return run_task(task)

    counts = run_sweep(config(), tmp_path, runner=runner, progress=False)
    assert counts == {"done": 3, "failed": 3} and len(attempts) == 2  # retries = 1
    store = Store(tmp_path)
    failed = [r for r in store.rows() if r["status"] == "failed"]
    store.close()
    assert {r["error"] for r in failed} == {"RuntimeError: boom"}
    assert run_sweep(config(), tmp_path, progress=False) == {"done": 6}  # tried again


def test_a_crash_between_tasks_loses_nothing_and_nothing_runs_twice(tmp_path):
    calls: list[int] = []

    def crashing(task):
        if calls:
            raise KeyboardInterrupt  # the coordinator dies during the second task
        calls.append(len(task.fits))
        return run_task(task)

    with pytest.raises(KeyboardInterrupt):
        run_sweep(config(), tmp_path, runner=crashing, progress=False)
    store = Store(tmp_path)
    assert store.counts() == {"done": 3}  # the first task's rows, whole
    store.close()
    again: list[int] = []
    assert run_sweep(config(), tmp_path, runner=counting(again), progress=False) == {"done": 6}
    assert again == [3]


@pytest.mark.parametrize(
    "text, message",
    [
        ("base: {}\ncolour: 1\n", "unknown key(s) colour"),
        (
            "base: {problem: {signal: {kind: smooth, n: 32, p: 3}, measurement: {m: 4}}}\n"
            "grid: {measurement.m: [0]}\n",
            "measurement.m=0",
        ),
        ("base: {}\nzip: {seed: [1, 2], measurement.ratio: [0.5]}\n", "one length"),
        ("- just a list\n", "expected a mapping"),
        ("base: {method: {generator: nope}}\n", "unknown generator"),
    ],
)
def test_config_errors_exit_2_with_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert main(["sweep", "run", str(path), "--out", str(tmp_path / "sweep")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("untrained-cs sweep run:")
    assert not (tmp_path / "sweep").exists()


def test_cli_run_status_export(tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(
        "base:\n  problem: {signal: {kind: smooth, n: 32, p: 3}, "
        "measurement: {kind: cs, m: 8}}\n  method: {generator: two-layer, optimizer: gd, "
        "max_iters: 40}\ngrid: {seed: [0, 1]}\n"
    )
    out = tmp_path / "sweep"
    assert main(["sweep", "run", str(path), "--out", str(out), "--quiet"]) == 0
    assert main(["sweep", "status", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("2 done, 0 failed, 0 to do of 2")
    assert main(["sweep", "export", str(out)]) == 0
    lines = (out / "results.csv").read_text().splitlines()
    assert len(lines) == 3 and "rel_error" in lines[0]
    assert main(["sweep", "report", str(out)]) == 0
    assert (out / "report_error.png").stat().st_size > 0
    assert not (out / "report_phase.png").exists()  # one p: no phase diagram
    assert main(["sweep", "status", str(tmp_path)]) == 2  # not a sweep folder


def test_report_draws_the_phase_diagram_over_m_and_p(tmp_path):
    from untrained_cs.plots.sweep import phase_diagram

    cfg = parse({"base": BASE, "grid": {"signal.p": [2, 4], "measurement.m": [4, 12],
                                        "seed": [0]}})  # fmt: skip
    run_sweep(cfg, tmp_path, progress=False)
    store = Store(tmp_path)
    rows = store.rows()
    store.close()
    assert phase_diagram(tmp_path / "phase.png", rows) and (tmp_path / "phase.png").exists()


def test_a_task_reports_its_finished_fits_as_they_stop(tmp_path, capsys):
    # the progress bar of an in-process sweep moves within a task, not only at its end
    cfg = config(seeds=(4, 5), ms=(6, 12, 20), task_size=None)
    (task,) = plan(cfg.fits(), cfg.batch, cfg.fits_per_task)
    seen: list[int] = []
    token = FITS_FINISHED.set(seen.append)
    try:
        run_task(task)
    finally:
        FITS_FINISHED.reset(token)
    assert seen == sorted(seen) and seen[-1] == len(task.fits) and len(set(seen)) > 2
    assert run_sweep(cfg, tmp_path, progress=True) == {"done": 6}
    assert "6/6" in capsys.readouterr().err.splitlines()[-1]


def test_a_sweep_varies_the_ensemble_and_stores_the_means_numbers(tmp_path):
    cfg = parse({"base": BASE, "grid": {"method.ensemble": [1, 3], "seed": [0, 1]},
                 "batch": 2})  # fmt: skip
    tasks = plan(cfg.fits(), cfg.batch, cfg.fits_per_task)
    assert sorted((len(t.fits), t.cap) for t in tasks) == [(2, None), (2, None)]
    run_sweep(cfg, tmp_path, progress=False)
    store = Store(tmp_path)
    rows = {r["key"]: r for r in store.rows()}
    store.close()
    for fit in cfg.fits():
        single = run(build(fit.problem), fit.method, device="cpu")
        assert rows[fit.key]["rel_error"] == pytest.approx(single.metrics["rel_error"], rel=1e-3)
