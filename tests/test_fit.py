"""The fit engine: recovery, stopping, divergence, determinism and batched fits."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from skimage.filters import gaussian

from untrained_cs.fit import FitDivergedError, Schedule, StopRule, fit
from untrained_cs.generators import DeepDecoder, TwoLayerGenerator
from untrained_cs.io.images import load_image
from untrained_cs.metrics import psnr
from untrained_cs.operators import GaussianOperator, make_operator
from untrained_cs.solvers import min_norm
from untrained_cs.theory import smooth_signal


def _smooth_problem(seed=0, n=128, p=5, m=32):
    x = smooth_signal(n, p, seed=seed).float().reshape(1, n)
    op = GaussianOperator((1, n), m, seed=seed + 100)
    return x, op, op(x[None])


@pytest.mark.parametrize("seed", [0, 1])
def test_two_layer_recovers_p_smooth_signal(seed):
    x, op, y = _smooth_problem(seed)
    g = TwoLayerGenerator((1, 128), channels=128, kernel=("triangular", 8.0), seed=seed)
    r = fit(g, op, y, truth=x, optimizer="gd", max_iters=20000)
    rel = ((r.estimate[0] - x).norm() / x.norm()).item()
    assert r.converged[0]
    assert rel < 0.1


def _smooth_image(n=32):
    return load_image("shepp_logan", n)


def test_deep_decoder_beats_min_norm_least_squares_by_5db():
    blurred = gaussian(load_image("camera", 32)[0].numpy(), sigma=1.5)  # a smooth image
    x = torch.from_numpy(blurred).float()[None]
    op = make_operator("gaussian", tuple(x.shape), 0.25, seed=3)
    y = op(x[None])
    baseline = psnr(min_norm(op, y).clamp(0, 1), x[None])[0].item()
    g = DeepDecoder(tuple(x.shape), channels=32, layers=4, seed=0)
    r = fit(g, op, y, truth=x, max_iters=1500)
    ours = psnr(r.estimate, x[None])[0].item()
    assert ours >= baseline + 5.0, (ours, baseline)


def _tiny(seed=0, max_iters=120, **kw):
    x = _smooth_image()
    op = make_operator("gaussian", tuple(x.shape), 0.25, seed=3)
    g = DeepDecoder(tuple(x.shape), channels=8, layers=3, seed=seed)
    return fit(
        g,
        op,
        op(x[None]),
        truth=x,
        max_iters=max_iters,
        check_every=20,
        window=40,
        device="cpu",
        **kw,
    ), x


def test_cpu_fit_is_bitwise_repeatable():
    a, _ = _tiny()
    b, _ = _tiny()
    assert torch.equal(a.estimate, b.estimate)
    np.testing.assert_array_equal(a.history["loss"], b.history["loss"])


def test_result_records_history_and_oracle_best():
    r, x = _tiny(max_iters=100)
    h = r.history
    # every check, plus the early logs below the first check (for log-axis curves)
    assert list(h["iteration"]) == [0, 1, 2, 5, 10, 20, 40, 60, 80, 100]
    assert h["loss"].shape == h["mse"].shape == (10, 1)
    assert r.stop_reason == ["max_iters"] and r.converged == [False]
    best = int(np.argmin(h["mse"][:, 0]))
    assert r.best_iteration == [int(h["iteration"][best])]
    assert r.best_psnr[0] == pytest.approx(float(h["psnr"][best, 0]))
    assert r.final_loss[0] < h["loss"][0, 0]


def test_stops_on_settled_loss():
    rule = StopRule(max_iters=5000, window=100, check_every=50, tol=0.5)
    x = _smooth_image()
    op = make_operator("gaussian", tuple(x.shape), 0.25, seed=3)
    g = DeepDecoder(tuple(x.shape), channels=8, layers=3, seed=0)
    r = fit(g, op, op(x[None]), rule=rule, schedule=Schedule(plateau=False), loss_floor=1e-30)
    assert r.stop_reason == ["converged"] and r.converged == [True]
    assert r.stop_iteration[0] < 5000


def test_loss_floor_stops_early():
    x = _smooth_image()
    op = make_operator("gaussian", tuple(x.shape), 0.25, seed=3)
    half_y2 = 0.5 * op(x[None]).pow(2).sum().item()
    floor = 2.0 / half_y2  # this small network reaches a loss of 2 after a few hundred steps
    r, _ = _tiny(max_iters=3000, loss_floor=floor, tol=1e-12)
    assert r.stop_reason == ["loss_floor"] and r.converged == [True]
    assert r.final_loss[0] <= 2.0
    assert r.stop_iteration[0] < 3000


def test_batched_fits_equal_single_fits():
    # float64: Adam normalises tiny gradient entries, so float32 rounding differences
    # between batched and single kernels grow over iterations; in float64 they stay tiny.
    x = torch.stack([_smooth_image(), load_image("camera", 32)]).double()
    seeds, op_seeds = [4, 9], [21, 22]
    op = GaussianOperator((1, 32, 32), 256, seed=op_seeds).double()
    y = op(x)
    g = DeepDecoder((1, 32, 32), channels=8, layers=3, seed=seeds).double()
    batched = fit(g, op, y, truth=x, max_iters=200, check_every=20, window=40)
    for b in range(2):
        op_b = GaussianOperator((1, 32, 32), 256, seed=op_seeds[b]).double()
        g_b = DeepDecoder((1, 32, 32), channels=8, layers=3, seed=seeds[b]).double()
        single = fit(g_b, op_b, y[b : b + 1], truth=x[b], max_iters=200, check_every=20, window=40)
        torch.testing.assert_close(
            batched.estimate[b : b + 1], single.estimate, atol=1e-7, rtol=1e-7
        )
        np.testing.assert_allclose(
            batched.history["loss"][:, b], single.history["loss"][:, 0], rtol=1e-7
        )


def test_divergence_is_caught_and_the_step_reduced():
    x, op, y = _smooth_problem()
    g = TwoLayerGenerator((1, 128), channels=32, kernel=("triangular", 8.0))
    r = fit(g, op, y, truth=x, optimizer="gd", lr=1e4, max_iters=400, check_every=10, window=20)
    assert torch.isfinite(r.estimate).all()
    assert r.history["lr"][-1, 0] < 1e4  # halved after each divergence


def test_hopeless_divergence_raises_clear_error():
    x, op, y = _smooth_problem()
    g = TwoLayerGenerator((1, 128), channels=32, kernel=("triangular", 8.0))
    with pytest.raises(FitDivergedError, match="diverged"):
        fit(
            g,
            op,
            y,
            optimizer="gd",
            lr=1e30,
            max_iters=400,
            check_every=10,
            window=20,
            max_restarts=2,
        )


def test_bad_inputs_raise_value_errors():
    x, op, y = _smooth_problem()
    g = TwoLayerGenerator((1, 128), channels=8)
    bad = y.clone()
    bad[0, 3] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf"):
        fit(g, op, bad)
    with pytest.raises(
        ValueError,
        match=r"GaussianOperator expects signals of shape \[1, 128\], "
        r"but TwoLayerGenerator produces \[1, 64\]",
    ):
        fit(TwoLayerGenerator((1, 64), channels=8), op, y)
    for kw in ({"lr": 0.0}, {"max_iters": 0}, {"tol": -1.0}):
        with pytest.raises(ValueError):
            fit(g, op, y, **kw)


def test_cuda_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    x, op, y = _smooth_problem()
    with pytest.raises(ValueError, match="CUDA is not available"):
        fit(TwoLayerGenerator((1, 128), channels=8), op, y, device="cuda")


def test_schedule_factor_warms_up_then_halves():
    schedule = Schedule(warmup=4, half_life=10, min_lr_ratio=0.1)
    factors = [schedule.lr_factor(i) for i in range(40)]
    assert factors[:5] == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert factors[13] == 1.0 and factors[14] == 0.5 and factors[24] == 0.25
    assert factors[34] == 0.125 and schedule.lr_factor(10_000) == 0.1  # floored
    changes = [i for i in range(40) if schedule.lr_factor_changes(i)]
    assert changes == [0, 1, 2, 3, 4, 14, 24, 34]
    assert Schedule().lr_factor(123) == 1.0  # no schedule by default
    # annealed once the factor is down to the floor (from 4 + 4 × 10 on), never without one
    annealed = schedule.annealed(np.arange(60))
    assert not annealed[:44].any() and annealed[44:].all()
    assert not Schedule(warmup=4).annealed(np.arange(10**4)).any()


def test_schedule_holds_the_peak_before_it_halves():
    # the MRI default's shape: 6 iterations at the peak, then a halving every 3 down to 1/8
    schedule = Schedule(warmup=2, hold=6, half_life=3, min_lr_ratio=0.125)
    factors = [schedule.lr_factor(i) for i in range(20)]
    assert factors[:2] == [0.5, 1.0] and factors[2:11] == [1.0] * 9
    assert factors[11] == 0.5 and factors[14] == 0.25 and factors[17] == 0.125
    assert [i for i in range(20) if schedule.lr_factor_changes(i)][2:] == [8, 11, 14, 17]
    annealed = schedule.annealed(np.arange(20))
    assert not annealed[:17].any() and annealed[17:].all()
    assert schedule.annealed_at() == 17 and Schedule().annealed_at() is None
    with pytest.raises(ValueError, match="hold"):
        Schedule(hold=-1).validate()


def test_fit_steps_with_the_scheduled_rates():
    # Three Adam steps under a 4-iteration warm-up take the rates lr/4, 2lr/4, 3lr/4: the
    # same parameters as a hand-written loop with those rates.
    from untrained_cs.fit.optim import Adam

    x = _smooth_image()
    op = make_operator("gaussian", tuple(x.shape), 0.25, seed=3)
    y = op(x[None])
    g = DeepDecoder(tuple(x.shape), channels=8, layers=3, seed=0)
    r = fit(g, op, y, lr=0.02, warmup=4, max_iters=3, check_every=20, window=40, device="cpu")
    hand = copy.deepcopy(g)
    params = [p for p in hand.parameters() if p.requires_grad]
    opt = Adam(params, torch.tensor([0.02]))
    for it in range(3):
        opt.lr = torch.tensor([0.02 * (it + 1) / 4])
        loss = 0.5 * (op.matvec(hand()) - y).square().sum()
        opt.step(list(torch.autograd.grad(loss, params)))
    assert r.generator is not None
    for mine, theirs in zip(r.generator.parameters(), hand.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-7)
    assert r.history["lr"][0, 0] == pytest.approx(0.005)  # the rate used at iteration 0


def test_a_fit_stops_once_its_schedule_has_annealed():
    # the rate halves every 20 iterations and floors at 1/4 of its peak (iteration 40):
    # the fit stops at the first check there, converged, before the cap
    r, _ = _tiny(max_iters=400, half_life=20, min_lr_ratio=0.25, plateau=False, tol=1e-12)
    assert r.stop_reason == ["annealed"] and r.converged == [True]
    assert r.stop_iteration == [40]
    assert Schedule(half_life=20, min_lr_ratio=0.25, plateau=False).annealed_at() == 40
    rates = r.history["lr"][:, 0][-3:]  # at iterations 10, 20, 40
    np.testing.assert_allclose(rates, [0.005, 0.0025, 0.00125])
