"""Fits with a queue (``cap``): at most ``cap`` members computed at once, the others start
later as places free up, and every member's numbers are those of the fit without a queue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from untrained_cs.fit import FitState, NoisyStop, continue_fit, fit, init_state, run_until
from untrained_cs.fit.step_size import gd_step_size
from untrained_cs.generators import TwoLayerGenerator
from untrained_cs.operators import GaussianOperator
from untrained_cs.theory import smooth_signal

# Six two-layer members with m from 4 to 24: those with few measurements stop early (loss
# floor), the others run to max_iters, so places free up at different checks.
N, MS = 32, [24, 4, 16, 6, 20, 8]
SEEDS = list(range(1, 7))
RULE = {"max_iters": 400, "check_every": 10, "window": 50, "tol": 1e-9, "loss_floor": 1e-5,
        "device": "cpu"}  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def problem():
    x = torch.stack([smooth_signal(N, 3, seed=s).reshape(1, N) for s in SEEDS]).double()
    op = GaussianOperator((1, N), max(MS), seed=[10 + s for s in SEEDS], rows=MS,
                          dtype=torch.float64)  # fmt: skip
    gen = TwoLayerGenerator((1, N), channels=32, seed=SEEDS).double()
    return gen, op, op(x), x


def forward_rows(gen: torch.nn.Module) -> list[int]:
    rows: list[int] = []
    gen.register_forward_hook(lambda _m, _i, out: rows.append(int(out.shape[0])))
    return rows


def assert_same_members(queued, plain, rtol: float) -> None:
    assert queued.stop_iteration == plain.stop_iteration
    assert queued.stop_reason == plain.stop_reason
    assert queued.best_iteration == plain.best_iteration
    np.testing.assert_allclose(queued.best_psnr, plain.best_psnr, rtol=rtol)
    np.testing.assert_allclose(queued.estimate, plain.estimate, rtol=rtol, atol=1e-9)
    for b in range(queued.batch):
        mine, theirs = queued.member_history(b), plain.member_history(b)
        np.testing.assert_array_equal(mine["iteration"], theirs["iteration"])
        np.testing.assert_allclose(mine["loss"], theirs["loss"], rtol=rtol)
        np.testing.assert_allclose(mine["lr"], theirs["lr"], rtol=rtol)


def test_a_queued_gd_fit_gives_every_member_its_own_numbers():
    gen, op, y, x = problem()
    rows = forward_rows(gen)
    queued = fit(gen, op, y, truth=x, optimizer="gd", cap=2, **RULE)
    # between the step size's estimate and the final estimate (all six, no gradient),
    # never more than cap members computed
    assert rows[0] == rows[-1] == 6 and max(rows[1:-1]) == 2
    assert max(queued.history["compute_batch"]) == 2
    assert queued.start is not None and queued.start[:2] == [0, 0] and min(queued.start[2:]) > 0
    assert all(s % RULE["check_every"] == 0 for s in queued.start)  # members join at checks
    plain = fit(gen, op, y, truth=x, optimizer="gd", **RULE)
    assert plain.start is None
    assert len(set(plain.stop_iteration)) > 2  # the members really stop at different checks
    assert_same_members(queued, plain, rtol=1e-9)


def test_a_queued_adam_fit_keeps_each_members_schedule_and_step_count():
    # warm-up and halvings count from each member's own start; so do Adam's bias corrections
    gen, op, y, x = problem()
    kw = {"optimizer": "adam", "lr": 0.02, "warmup": 30, "half_life": 60, **RULE}
    queued = fit(gen, op, y, truth=x, cap=3, **kw)
    plain = fit(gen, op, y, truth=x, **kw)
    assert queued.start is not None and max(queued.start) > 0
    assert_same_members(queued, plain, rtol=1e-6)


def test_a_queued_fit_paused_mid_queue_resumes_bit_identically(tmp_path: Path):
    gen, op, y, x = problem()
    ref = fit(gen, op, y, truth=x, optimizer="gd", cap=2, **RULE)
    state = init_state(gen, op, y, truth=x, optimizer="gd", cap=2, **RULE)
    run_until(state, max_iteration=175)  # some members done, some running, some queued
    assert state.stop.queued.any() and state.stop.active.any()
    path = state.save(tmp_path / "state.pt")
    g2, op2, y2, x2 = problem()
    resumed = continue_fit(FitState.load(path, g2, op2, y2, truth=x2))
    assert resumed.start == ref.start
    assert_same_members(resumed, ref, rtol=0.0)


def test_divergence_in_a_queued_fit_is_undone_as_without_the_queue():
    # a step 2000x GD's: members that joined later diverge, their step is halved and the
    # iteration run again, as in the fit without a queue
    gen, op, y, x = problem()
    lr = (gd_step_size(gen, op) * 2000).tolist()
    queued = fit(gen, op, y, truth=x, optimizer="gd", lr=lr, cap=2, **RULE)
    plain = fit(gen, op, y, truth=x, optimizer="gd", lr=lr, **RULE)
    halved = np.flatnonzero(plain.history["lr"][-1] < np.asarray(lr))
    assert len(halved) and queued.start is not None and min(queued.start[b] for b in halved) > 0
    np.testing.assert_array_equal(queued.history["lr"][-1], plain.history["lr"][-1])
    assert_same_members(queued, plain, rtol=1e-9)


def test_a_queue_needs_a_valid_cap_and_no_holdout():
    gen, op, y, x = problem()
    with pytest.raises(ValueError, match="cap must be >= 1"):
        fit(gen, op, y, optimizer="gd", cap=0, **RULE)
    with pytest.raises(ValueError, match="needs compact=True"):
        fit(gen, op, y, optimizer="gd", cap=2, compact=False, **RULE)
    with pytest.raises(ValueError, match="hold-out"):
        fit(gen, op, y, optimizer="gd", cap=2, stop=NoisyStop("holdout", fraction=0.2), **RULE)
