"""Classical solvers on every registered operator: min-norm, FISTA (ℓ1-wavelet), PDHG (TV).

Everything runs in float64 on the operators' own tiny test shapes, batched (B = 2).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import pywt
import torch

import untrained_cs.mri  # noqa: F401  (registers the MRI operators)
from untrained_cs.operators import OPERATORS, MaskOperator, Operator, make_operator
from untrained_cs.operators.blur import BlurOperator
from untrained_cs.operators.checks import random_input, random_output
from untrained_cs.solvers import (
    BASELINES,
    WaveletTransform,
    fista,
    gradient,
    gradient_adjoint,
    l1_objective,
    lipschitz_constant,
    measurement_dof,
    min_norm,
    min_norm_solve,
    operator_norm,
    prox_l1,
    run_baselines,
    total_variation,
    tv_objective,
    tv_pdhg,
    wavelet_for,
)

NAMES = sorted(OPERATORS)
F64 = torch.float64


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny problems: a second thread only adds hand-off waits (conftest restores the count)."""
    torch.set_num_threads(1)


def build(name: str, ratio: float = 0.5, seed: int = 3) -> Operator:
    return make_operator(name, OPERATORS[name].test_shape, ratio, seed)


def batch(t: torch.Tensor) -> torch.Tensor:
    """Two members: ``t`` and a second, different one (so batching is exercised)."""
    return torch.cat([t, 2.0 * t.flip(-1)]) if t.shape[0] == 1 else t


def real_rows(t: torch.Tensor) -> torch.Tensor:
    """``[B, ...]`` → ``[B, m]``, complex entries stacked as (real parts, imaginary parts)."""
    flat = t.reshape(t.shape[0], -1)
    return torch.cat([flat.real, flat.imag], 1) if flat.is_complex() else flat


def dense(op: Operator) -> torch.Tensor:
    """The real matrix of A (column by column, in float64; R-linear maps as real stacks)."""
    eye = torch.eye(op.n, dtype=F64).reshape(op.n, *op.in_shape)
    return real_rows(op(eye)).T


class Scaled(Operator):
    """c A: the same operator with its output scaled (a bigger norm)."""

    def __init__(self, op: Operator, c: float) -> None:
        super().__init__(op.in_shape, op.out_shape, op.count)
        self.op, self.c = op, c
        self.complex_output = op.complex_output

    def matvec(self, x):
        return self.c * self.op.matvec(x)

    def rmatvec(self, y):
        return self.c * self.op.rmatvec(y)


def constant_signal(op: Operator) -> torch.Tensor:
    """A batch of per-channel constant signals (TV = 0)."""
    levels = torch.arange(1, op.in_shape[0] + 1, dtype=F64)
    x = levels.reshape(1, -1, *[1] * (len(op.in_shape) - 1)).expand(1, *op.in_shape)
    return batch(x.clone())


def approximation_signal(op: Operator) -> torch.Tensor:
    """A batch of signals whose wavelet details vanish (||W_d x||_1 = 0)."""
    w = wavelet_for(op.in_shape)
    c = w.analysis(torch.cat([random_input(op, 4), random_input(op, 5)]))
    return w.synthesis(torch.where(w.detail_mask(), 0.0, c))


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


# --- min-norm least squares and norms ---------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_min_norm_equals_the_pseudo_inverse(name):
    """CG reaches pinv(A) y, also for y outside the range of A (complex rows stacked).
    A Gaussian blur's smallest singular values lie near the float64 noise: its pseudo-inverse
    is not a target for any iterative solver (the blur is checked by the other tests)."""
    op = build(name)
    if isinstance(op, BlurOperator):
        sv = torch.linalg.svdvals(dense(op))
        assert float(sv[0] / sv[-1]) > 1e8  # why it is left out here
        pytest.skip(f"{name}: condition number {float(sv[0] / sv[-1]):.1e}")
    y = batch(random_output(op, 1))
    result = min_norm_solve(op, y)
    ref = (torch.linalg.pinv(dense(op)) @ real_rows(y).T).T.reshape(result.x.shape)
    tol = max(1e-6, OPERATORS[name].rtol)  # bfloat16 storage is exact only to its rtol
    assert rel(result.x, ref) <= tol, (result.iterations, rel(result.x, ref))
    assert result.converged or tol > 1e-6


@pytest.mark.parametrize("name", NAMES)
def test_operator_norm_is_the_largest_singular_value(name):
    op = build(name)
    sigma = torch.linalg.matrix_norm(dense(op), ord=2)
    est = operator_norm(op, iters=300, dtype=F64)
    assert float(est[0]) == pytest.approx(float(sigma), rel=max(1e-3, OPERATORS[name].rtol))
    assert float(lipschitz_constant(op, F64, iters=300)[0]) >= float(sigma) ** 2


# --- FISTA and wavelets -------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_ista_and_monotone_fista_never_increase_the_objective(name):
    """Theory: ISTA with step 1/L and MFISTA are descent methods (plain FISTA is not).

    bfloat16 storage rounds x, so that operator is linear only to its registry rtol.
    """
    op = build(name)
    slack = 1e-12 if OPERATORS[name].rtol <= 1e-6 else OPERATORS[name].rtol
    y = batch(op(random_input(op, 2)))
    lam, w = 0.05 * float(op.adjoint(y).abs().max()), wavelet_for(op.in_shape)
    for variant in ("ista", "mfista"):
        iterates: list[torch.Tensor] = []
        fista(
            op,
            y,
            lam,
            variant=variant,
            max_iters=60,
            tol=0.0,
            callback=lambda _, x, keep=iterates: keep.append(x),
        )
        f = torch.stack([l1_objective(op, y, x, lam, w) for x in iterates])
        assert bool((f[1:] <= f[:-1] * (1 + slack) + 1e-14).all()), variant


@pytest.mark.parametrize("name", NAMES)
def test_fista_reaches_the_zero_objective_of_an_approximation_band_signal(name):
    """y = A x with W_d x = 0: the minimum is 0 (F >= 0), reached by FISTA at O(1/k²)."""
    op = build(name)
    x = approximation_signal(op)
    y = op(x)
    lam = 0.1 * float(op.adjoint(y).abs().max())
    result = fista(op, y, lam, max_iters=300)
    value = l1_objective(op, y, result.x, lam, wavelet_for(op.in_shape))
    assert float((value / (0.5 * real_rows(y).square().sum(1))).max()) < 1e-5


@pytest.mark.parametrize("name", ["gaussian", "structured-fft", "mri-multicoil"])
def test_solvers_take_their_step_from_the_operator_norm(name):
    """10 A (norm 10x, unit steps would diverge) gives the same solutions, λ scaled by 100."""
    op = build(name)
    big = Scaled(op, 10.0)
    y = batch(op(random_input(op, 2)))
    lam = 0.05 * float(op.adjoint(y).abs().max())
    assert float(lipschitz_constant(big, F64)[0]) == pytest.approx(
        100 * float(lipschitz_constant(op, F64)[0]), rel=1e-9
    )
    assert rel(min_norm(big, 10 * y), min_norm(op, y)) < 1e-8
    for solve in (fista, tv_pdhg):
        small_x = solve(op, y, lam, max_iters=80, tol=0.0).x
        big_x = solve(big, 10 * y, 100 * lam, max_iters=80, tol=0.0).x
        assert rel(big_x, small_x) < 1e-8, solve.__name__


def test_fista_and_tv_trivial_cases_on_the_identity():
    """A = I: λ → 0 gives y back; a huge λ gives the penalty's fixed point (band / mean)."""
    op = MaskOperator((2, 6, 8), 1.0)  # every pixel observed, in order: A = I
    x = torch.randn(2, 2, 6, 8, dtype=F64, generator=torch.Generator().manual_seed(0))
    y = op(x)
    assert rel(fista(op, y, 1e-12).x, x) < 1e-6
    assert rel(tv_pdhg(op, y, 1e-12, max_iters=2000, tol=1e-13).x, x) < 1e-6
    w = wavelet_for(op.in_shape)
    band = w.synthesis(torch.where(w.detail_mask(), 0.0, w.analysis(x)))
    assert rel(fista(op, y, 1e6).x, band) < 1e-6
    means = x.mean(dim=(-2, -1), keepdim=True).expand_as(x)
    assert rel(tv_pdhg(op, y, 1e6, max_iters=2000, tol=1e-10).x, means) < 1e-4


@pytest.mark.parametrize("shape", [(6, 5), (16, 16), (7,), (12,), (1, 6), (4, 6, 5)])
def test_wavelet_transform_is_orthonormal_for_every_size(shape):
    w = WaveletTransform(shape, "db4")
    n = math.prod(shape)
    eye = torch.eye(n, dtype=F64).reshape(n, *shape)
    mat = w.analysis(eye).reshape(n, n)
    torch.testing.assert_close(mat @ mat.T, torch.eye(n, dtype=F64))
    torch.testing.assert_close(w.synthesis(w.analysis(eye)), eye)


def test_wavelet_transform_matches_pywavelets_periodization():
    x = np.random.default_rng(0).standard_normal((3, 32, 32))
    ours = WaveletTransform((32, 32), "db4", levels=2).analysis(torch.from_numpy(x))
    coeffs = pywt.wavedec2(x, "db4", mode="periodization", level=2, axes=(-2, -1))
    ref, _ = pywt.coeffs_to_array(coeffs, axes=(-2, -1))
    np.testing.assert_allclose(ours.numpy(), ref, atol=1e-12)
    one_d = WaveletTransform((32,), "haar", levels=3).analysis(torch.from_numpy(x[:, 0]))
    np.testing.assert_allclose(
        one_d.numpy(), np.concatenate(pywt.wavedec(x[:, 0], "haar", "periodization", 3), -1)
    )


def test_wavelet_prox_shrinks_details_only():
    w = WaveletTransform((8, 8), "haar", levels=2)
    x = torch.randn(2, 1, 8, 8, dtype=F64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(prox_l1(x, 0.0, w), x)
    c, out = w.analysis(x), w.analysis(prox_l1(x, torch.tensor([0.3, 0.0], dtype=F64), w))
    detail = w.detail_mask()
    torch.testing.assert_close(out[:, :, ~detail], c[:, :, ~detail])
    shrunk = torch.sign(c[0]) * (c[0].abs() - 0.3).clamp_min(0)
    torch.testing.assert_close(out[0][:, detail], shrunk[:, detail])
    torch.testing.assert_close(out[1], c[1])  # member 2 has threshold 0


# --- total variation and PDHG ---------------------------------------------------------


@pytest.mark.parametrize("ndim,shape", [(1, (3, 2, 11)), (2, (2, 3, 7, 5)), (3, (2, 1, 4, 6, 5))])
def test_tv_gradient_adjoint_is_exact_and_norm_bounded(ndim, shape):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, dtype=F64, generator=g)
    q = torch.randn(ndim, *shape, dtype=F64, generator=g)
    lhs = float((gradient(x, ndim) * q).sum())
    assert lhs == pytest.approx(float((x * gradient_adjoint(q)).sum()), rel=1e-12)
    z = x
    for _ in range(200):
        z = gradient_adjoint(gradient(z / z.norm(), ndim))
    assert float(z.norm()) <= 4.0 * ndim  # ||∇||² <= 4 per axis
    flat = torch.zeros(shape, dtype=F64) + 3.0
    assert float(total_variation(flat, ndim).abs().max()) == 0.0


def test_coupled_tv_takes_one_norm_per_pixel_over_the_channels():
    """Vectorial TV: a pixel whose channels jump by (3, 4) costs 5 coupled, 7 uncoupled;
    PDHG's projection onto the coupled ball keeps each pixel's channel vector within it."""
    x = torch.zeros(1, 2, 1, 2, dtype=F64)
    x[0, 0, 0, 1], x[0, 1, 0, 1] = 3.0, 4.0
    assert float(total_variation(x, 2)) == 7.0
    assert float(total_variation(x, 2, couple_channels=True)) == 5.0
    from untrained_cs.solvers.tv import _project

    q = torch.randn(2, 1, 3, 4, 4, dtype=F64, generator=torch.Generator().manual_seed(2))
    p = _project(q, torch.tensor([0.5], dtype=F64), couple_channels=True)
    norms = p.square().sum(dim=(0, 2)).sqrt()
    assert float(norms.max()) <= 0.5 + 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_tv_pdhg_reaches_the_zero_objective_of_a_constant_signal(name):
    """y = A x with x constant per channel: TV(x) = 0, so the minimum is 0, reached by PDHG."""
    op = build(name)
    x = constant_signal(op)
    y = op(x)
    lam = 0.1 * float(op.adjoint(y).abs().max())
    result = tv_pdhg(op, y, lam, max_iters=400)
    value = tv_objective(op, y, result.x, lam)
    assert float((value / (0.5 * real_rows(y).square().sum(1))).max()) < 1e-4


def test_tv_pdhg_converges_on_a_strongly_convex_problem():
    """A = I (TV denoising, 1-strongly convex). PDHG is not a descent method; theory gives
    F(x_k) → F* and x_k → x*, checked here as a shrinking gap over doubling checkpoints."""
    op = MaskOperator((1, 9, 8), 1.0)
    x = torch.randn(2, 1, 9, 8, dtype=F64, generator=torch.Generator().manual_seed(2))
    y = op(x)
    star = tv_pdhg(op, y, 0.3, max_iters=5000, tol=1e-13).x
    f_star = tv_objective(op, y, star, 0.3)
    gaps, dists = [], []
    for k in (10, 20, 40, 80, 160, 320):
        xk = tv_pdhg(op, y, 0.3, max_iters=k, tol=0.0).x
        gaps.append(float((tv_objective(op, y, xk, 0.3) - f_star).abs().max()))
        dists.append(rel(xk, star))
    assert all(b < a for a, b in zip(gaps, gaps[1:], strict=False)), gaps
    assert all(b < a for a, b in zip(dists, dists[1:], strict=False)), dists
    assert gaps[-1] < 1e-5 * float(f_star.max())


# --- baselines and weight choice ------------------------------------------------------


def _inpainting(noise: float = 0.0):
    yy, xx = torch.meshgrid(torch.arange(16.0), torch.arange(16.0), indexing="ij")
    truth = ((yy - 7.5) ** 2 + (xx - 7.5) ** 2 < 30).double()[None, None] * 0.6 + 0.2
    op = MaskOperator((1, 16, 16), 0.5, seed=1)
    y = op(truth)
    y = y + noise * torch.randn(y.shape, dtype=F64, generator=torch.Generator().manual_seed(3))
    return op, y, truth


def test_baselines_with_oracle_weights_beat_min_norm():
    op, y, truth = _inpainting()
    res = run_baselines(op, y, BASELINES, truth=truth, options={"tv": {"max_iters": 300}})
    assert list(res) == list(BASELINES)
    assert res["min_norm"].weight is None and res["min_norm"].weight_choice is None
    for name in ("l1_wavelet", "tv"):
        assert res[name].weight_choice == "oracle" and res[name].weight > 0
        assert res[name].psnr > res["min_norm"].psnr + 3.0, (name, res[name].psnr)
    assert res["tv"].image.shape == truth.shape and res["tv"].seconds > 0


def test_discrepancy_picks_the_largest_weight_within_the_noise_level():
    sigma = 0.05
    op, y, truth = _inpainting(sigma)
    assert measurement_dof(op, 1) == op.m
    grid = {"tv": (1e-3, 1e-2, 1e-1, 1.0)}
    res = run_baselines(
        op, y, ("tv",), truth=truth, weight_choice="discrepancy", noise_std=sigma, grid=grid
    )["tv"]
    scale = float(op.adjoint(y).abs().max())
    target = 0.5 * op.m * sigma**2 * 1.05
    assert res.weight_choice == "discrepancy"
    chosen = res.weight / scale
    larger = [g for g in grid["tv"] if g > chosen * (1 + 1e-9)]
    assert 0.5 * float((op(res.image) - y).square().sum()) <= target
    if larger:
        x_next = tv_pdhg(op, y, larger[0] * scale).x
        assert 0.5 * float((op(x_next) - y).square().sum()) > target


def test_holdout_choice_is_seeded_and_resolves_on_all_rows():
    op, y, truth = _inpainting(0.02)
    kw = {"weight_choice": "holdout", "grid": {"l1_wavelet": (1e-4, 1e-2, 1.0)}}
    a = run_baselines(op, y, ("l1_wavelet",), truth=truth, **kw)["l1_wavelet"]
    b = run_baselines(op, y, ("l1_wavelet",), truth=truth, **kw)["l1_wavelet"]
    assert a.weight == b.weight and a.weight_choice == "holdout"
    lam = a.weight
    torch.testing.assert_close(a.image, fista(op, y, lam).x)
    assert a.weight / float(op.adjoint(y).abs().max()) < 1.0  # λ huge predicts badly


def test_baselines_refuse_a_choice_without_what_it_needs():
    op, y, _ = _inpainting()
    with pytest.raises(ValueError, match="oracle"):
        run_baselines(op, y, ("tv",))
    with pytest.raises(ValueError, match="noise_std"):
        run_baselines(op, y, ("tv",), weight_choice="discrepancy")
    with pytest.raises(ValueError, match="unknown baselines"):
        run_baselines(op, y, ("sparse",), weight_choice="holdout")


def test_solvers_run_in_float32_and_one_dimension():
    """A 1D piecewise-constant signal [B, 1, n] under a Gaussian operator, in float32."""
    from untrained_cs.operators import GaussianOperator

    x = torch.zeros(1, 1, 64)
    x[..., 20:40] = 1.0
    op = GaussianOperator((1, 64), 32, seed=0)
    y = op(x)
    assert wavelet_for(op.in_shape).spatial == (64,)
    tv = tv_pdhg(op, y, 0.03 * float(op.adjoint(y).abs().max()), max_iters=500).x
    assert tv.dtype == torch.float32 and rel(tv, x) < 0.03
    ls = min_norm(op, y)
    assert rel(op(ls), y) < 1e-4
