"""The plan of a sweep (:mod:`untrained_cs.sweeps.outline`): its counts are those the sweep
runs, and an outline out of time extrapolates and says so."""

from __future__ import annotations

import pytest

from untrained_cs.sweeps import parse

SMOOTH = {
    "problem": {"signal": {"kind": "smooth", "n": 32, "p": 3},
                "measurement": {"kind": "cs", "operator": "gaussian", "m": 12}},
    "method": {"kind": "generator", "generator": "two-layer", "optimizer": "gd", "max_iters": 40},
}  # fmt: skip


@pytest.mark.parametrize(
    "grid, zipped, batch, task_size",
    [
        ({"measurement.m": [6, 12], "seed": [0, 1, 2]}, {}, 3, 3),
        ({"signal.p": [2, 4], "measurement.m": [4, 12], "seed": list(range(9))}, {}, 4, None),
        ({"measurement.operator": ["gaussian", "structured"], "measurement.m": [8, 16],
          "seed": list(range(5))}, {}, 2, None),
        ({"seed": [0, 1, 2]}, {"method.max_iters": [20, 30], "measurement.m": [8, 16]}, 2, 2),
        ({"measurement.noise_std": [0.0, 0.1], "seed": [3, 4, 5]}, {}, 2, None),
    ],
)  # fmt: skip
def test_the_outline_counts_what_the_sweep_runs(grid, zipped, batch, task_size):
    from untrained_cs.sweeps import plan
    from untrained_cs.sweeps.config import make_fit
    from untrained_cs.sweeps.outline import outline

    cfg = parse({"base": SMOOTH, "grid": grid, "zip": zipped, "batch": batch,
                 "task_size": task_size})  # fmt: skip
    fits = cfg.fits()
    assert [f.key for f in fits] == [make_fit(cfg.base, c).key for c in cfg.changes()]
    for slots in (1, 3):
        tasks = plan(list(fits), cfg.batch, cfg.fits_per_task, slots)
        counted = outline(cfg, slots=slots)
        assert (counted.fits, counted.tasks, counted.sampled) == (len(fits), len(tasks), False)


def test_an_outline_out_of_time_extrapolates_and_says_so():
    from untrained_cs.experiments.probe import probe_fit
    from untrained_cs.sweeps.outline import estimate, outline

    cfg = parse({"base": SMOOTH, "grid": {"method.lr": [0.01 * (i + 1) for i in range(40)],
                                          "seed": [0, 1]}, "batch": 2})  # fmt: skip
    ticks = iter(range(10**6))
    counted = outline(cfg, budget=3, clock=lambda: float(next(ticks)))  # a few combinations made
    assert counted.sampled and counted.fits == 80 and 30 < counted.tasks < 50
    timed = estimate(cfg, counted, probe_fit, budget=0)  # out of time: one probed all the same
    assert timed.probed == 1 and timed.seconds is not None and timed.seconds > 0


def test_executors_with_several_slots_get_several_tasks_each_and_one_slot_full_batches():
    from untrained_cs.sweeps import plan
    from untrained_cs.sweeps.run import MIN_TASK_FITS, TASKS_PER_SLOT

    cfg = parse({"base": SMOOTH, "grid": {"signal.p": [2, 4], "measurement.m": [4, 8, 12, 16],
                                          "seed": list(range(10))}, "batch": 64})  # fmt: skip
    fits = cfg.fits()  # two shapes (p) of 40 fits each
    assert [len(t.fits) for t in plan(list(fits), cfg.batch, cfg.fits_per_task, 1)] == [40, 40]
    two = plan(list(fits), cfg.batch, cfg.fits_per_task, 2)
    assert len(two) == 2 * 2 * TASKS_PER_SLOT  # per shape: each slot's share, cut again
    assert sorted(f.key for t in two for f in t.fits) == sorted(f.key for f in fits)
    many = plan(list(fits), cfg.batch, cfg.fits_per_task, 16)
    assert min(len(t.fits) for t in many) == MIN_TASK_FITS  # never below the floor
