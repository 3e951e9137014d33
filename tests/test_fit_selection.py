"""Stopping without the truth: the hold-out rule and the discrepancy principle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from untrained_cs.fit import FitState, NoisyStop, continue_fit, fit, init_state, run_until
from untrained_cs.fit.selection import Holdout, discrepancy_floor
from untrained_cs.generators import DeepDecoder
from untrained_cs.operators import GaussianOperator
from untrained_cs.operators.noise import add_noise, holdout_split, measured_entries


def test_holdout_returns_the_minimum_of_a_known_held_out_curve():
    curve = [5.0, 3.0, 2.0, 2.5, 4.0, 6.0, 7.0, 8.0]
    h = Holdout(torch.zeros(1, 4, dtype=torch.bool), patience=3)
    h.start(1)
    stopped_at = None
    for it, value in enumerate(curve):
        out = torch.full((1, 2), float(it))
        stop = h.observe(it * 50, np.array([value]), out, np.array([True]))
        if stop[0] and stopped_at is None:
            stopped_at = it
    assert h.iteration[0] == 100 and float(h.best[0]) == 2.0
    assert torch.equal(h.output, torch.full((1, 2), 2.0))  # the iterate at the minimum
    assert stopped_at == 5  # three checks without a new minimum after it


def test_holdout_split_takes_only_candidates_and_its_fraction():
    cand = torch.zeros(2, 100, dtype=torch.bool)
    cand[:, 20:80] = True
    held = holdout_split(cand, 0.1, seed=3)
    assert held.sum(1).tolist() == [6, 6] and not bool((held & ~cand).any())
    assert not torch.equal(held[0], held[1])  # each member draws its own
    assert torch.equal(held, holdout_split(cand, 0.1, seed=3))


def _noisy_problem(sigma: float, seed: int = 0):
    x = torch.linspace(0, 1, 16 * 16).reshape(1, 16, 16)
    op = GaussianOperator((1, 16, 16), 128, seed=seed + 1)
    with torch.no_grad():
        y = add_noise(op(x[None]), sigma, seed + 2)
    return x, op, y


def test_discrepancy_stops_at_the_first_check_below_the_noise_level():
    sigma = 0.05
    x, op, y = _noisy_problem(sigma)
    gen = DeepDecoder((1, 16, 16), channels=16, layers=3, seed=0)
    floor = discrepancy_floor(op, y, sigma)
    assert floor[0] == pytest.approx(0.5 * 128 * sigma**2)
    r = fit(gen, op, y, lr=0.01, max_iters=4000, device="cpu",
            stop=NoisyStop("discrepancy", noise_std=sigma))  # fmt: skip
    h = r.history
    checks = h["iteration"] % 50 == 0
    losses, its = h["loss"][checks, 0], h["iteration"][checks]
    first = int(np.argmax(losses <= floor[0]))
    assert r.stop_reason == ["discrepancy"] and r.stop_iteration[0] == its[first]
    assert losses[first] <= floor[0] < losses[first - 1]
    assert r.summary()["stop_rule"] == "discrepancy"


def test_holdout_fit_returns_its_selected_iterate():
    x, op, y = _noisy_problem(0.1)
    gen = DeepDecoder((1, 16, 16), channels=16, layers=3, seed=0)
    outputs: dict[int, torch.Tensor] = {}

    def keep(rec):
        outputs[int(rec["iteration"])] = rec["output"].clone()

    stop = NoisyStop("holdout", fraction=0.2, seed=5, patience=4)
    r = fit(gen, op, y, lr=0.01, max_iters=3000, device="cpu", stop=stop, callback=keep)
    sel = r.selected_iteration[0]
    assert r.stop_reason == ["holdout"] and sel < r.stop_iteration[0]
    assert torch.equal(r.estimate, outputs[sel])
    assert measured_entries(op).sum() == 128


def test_holdout_state_resumes_bit_identically(tmp_path):
    x, op, y = _noisy_problem(0.1)
    stop = NoisyStop("holdout", fraction=0.2, seed=5, patience=4)

    def start():
        gen = DeepDecoder((1, 16, 16), channels=8, layers=3, seed=1)
        return gen, init_state(gen, op, y, lr=0.01, max_iters=600, device="cpu", stop=stop)

    _, whole = start()
    a = continue_fit(whole)
    gen, part = start()
    assert run_until(part, max_iteration=237) == "paused"
    part.save(tmp_path / "s.pt")
    fresh = DeepDecoder((1, 16, 16), channels=8, layers=3, seed=1)
    b = continue_fit(FitState.load(tmp_path / "s.pt", fresh, op, y))
    assert torch.equal(a.estimate, b.estimate)
    assert a.selected_iteration == b.selected_iteration
    assert np.array_equal(a.history["loss"], b.history["loss"])
