"""Ensembles as a method, and the settled-estimate stop."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from untrained_cs.cli import main
from untrained_cs.fit import fit
from untrained_cs.fit.selection import Settled, holdout_entries
from untrained_cs.methods import GeneratorFit
from untrained_cs.metrics import psnr
from untrained_cs.pipeline import FitControl, build_generator, noisy_stop, run, run_batch
from untrained_cs.problems import CSMeasurement, ImageSignal, ProblemSpec, build

SMALL = {"channels": 8, "layers": 3}


def problem(seed: int = 0, noise: float = 0.0):
    spec = ProblemSpec(
        ImageSignal("camera", 16, 1), CSMeasurement("gaussian", 0.5, noise_std=noise), seed
    )
    return build(spec)


def test_settled_stops_a_group_when_its_mean_changes_little_over_the_window():
    # two groups: members 0, 1 (an ensemble) and member 2; estimates x(t) = 1 + c / t
    rule = Settled(np.array([0, 0, 1]), window=100, tol=1e-3)
    active = np.ones(3, dtype=bool)
    stopped_at = {}
    for t in range(0, 5001, 50):
        # the ensemble's members wander in opposite directions: their mean settles at once
        wobble = 0.5 * np.sin(t / 70.0)
        rows = [1 + wobble + 1.0 / (t + 1), 1 - wobble + 1.0 / (t + 1), 1 + 20.0 / (t + 1)]
        out = torch.tensor(rows, dtype=torch.float64).reshape(3, 1, 1).expand(3, 1, 4)
        stop = rule.observe(t, out, active)
        for b in np.flatnonzero(stop):
            stopped_at[int(b)] = t
        active &= ~stop

    # compared every 100 iterations from t = 0, group g with x(t) = 1 + c/(t+1) stops at
    # the first t = 100, 200, … where (c/(t−99) − c/(t+1)) / (1 + c/(t+1)) < 1e-3
    def first(c: float) -> int:
        return next(t for t in range(100, 5001, 100)
                    if (c / (t - 99) - c / (t + 1)) / (1 + c / (t + 1)) < 1e-3)  # fmt: skip

    assert stopped_at[0] == stopped_at[1] == first(1.0) == 400  # the wobble cancels in the mean
    assert stopped_at[2] == first(20.0) == 1500
    assert not active.any()


def test_an_ensembles_record_is_the_mean_of_its_members():
    p = problem()
    rec = run(p, GeneratorFit(**SMALL, max_iters=80, ensemble=3))
    assert rec.fit is not None and rec.fit.estimate.shape[0] == 3
    members = rec.fit.estimate
    assert torch.equal(rec.estimate, members.mean(dim=0))
    assert rec.metrics["psnr"] == pytest.approx(float(psnr(rec.estimate[None], p.truth[None])[0]))
    # the logged PSNR is the mean's, not a member's
    assert rec.history is not None
    assert rec.history["psnr"][-1, 0] == pytest.approx(rec.metrics["psnr"], abs=1e-3)
    assert torch.equal(rec.extra["spread"], members.std(dim=0, correction=0))
    assert rec.metrics["ensemble"] == 3 and -1 <= rec.metrics["spread_error_correlation"] <= 1
    assert float(rec.extra["spread"].mean()) > 0  # the members differ


def test_batched_ensembles_match_one_problem_at_a_time():
    method = GeneratorFit(**SMALL, max_iters=60, ensemble=2)
    problems = [problem(0), problem(1)]
    batch = run_batch(problems, method)
    for p, rec in zip(problems, batch, strict=True):
        alone = run(p, method)
        assert torch.allclose(rec.estimate, alone.estimate, atol=1e-5)


def test_an_ensembles_members_settle_together_and_share_their_holdout_entries():
    p = problem(noise=0.05)
    method = GeneratorFit(**SMALL, max_iters=2000, ensemble=3, stop="settled")
    gen = build_generator(p, method)
    stop = replace(noisy_stop(p, method), tol=2e-2)
    result = fit(gen, p.operator, p.y.expand(3, -1), stop=stop, compact=False, lr=0.01)
    assert set(result.stop_reason) == {"settled"} and len(set(result.stop_iteration)) == 1
    assert result.stop_iteration[0] < 2000
    held = holdout_entries(p.operator, p.y.expand(3, -1), 0.1, 7, groups=np.zeros(3))
    assert held.shape[0] == 3 and torch.equal(held[0], held[1]) and torch.equal(held[0], held[2])
    assert int(held[0].sum()) == round(0.1 * p.m)
    with pytest.raises(ValueError, match="compact=False"):
        fit(gen, p.operator, p.y.expand(3, -1), stop=stop)


@pytest.mark.slow
def test_default_settled_ensemble_ends_above_the_single_decoder():
    p = problem()
    single = run(p, GeneratorFit(**SMALL, max_iters=3000))
    ensemble = run(p, GeneratorFit(**SMALL, max_iters=3000, ensemble=3, stop="settled"))
    assert ensemble.fit is not None and set(ensemble.fit.stop_reason) == {"settled"}
    assert ensemble.metrics["iterations"] < single.metrics["iterations"]
    assert ensemble.metrics["psnr"] > single.metrics["psnr"]


def test_an_interrupted_ensemble_resumes_bit_identically(tmp_path):
    p = problem(noise=0.02)
    method = GeneratorFit(**SMALL, max_iters=400, ensemble=2, stop="settled")
    whole = run(p, method)
    calls = iter(range(10**6))
    path = tmp_path / "state.pt"
    with pytest.raises(Exception) as stopped:
        run(p, method, control=FitControl(should_stop=lambda: next(calls) == 170, checkpoint=path))
    assert type(stopped.value).__name__ == "FitInterrupted"
    resumed = run(p, method, control=FitControl(resume=path))
    assert torch.equal(resumed.estimate, whole.estimate)
    assert resumed.metrics["iterations"] == whole.metrics["iterations"]
    assert np.array_equal(resumed.history["loss"], whole.history["loss"])


def test_cli_ensemble_writes_the_spread(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["reconstruct", "--size", "16", "--channels", "8", "--layers", "3",
                 "--max-iters", "40", "--ensemble", "2", "--quiet", "--out", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["ensemble"] == 2 and metrics["files"]["spread"] == "spread.npy"
    assert np.load(out / "spread.npy").shape == (1, 16, 16)
    assert (out / "spread.png").exists()
