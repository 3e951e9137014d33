"""The MRI pipeline: the deep decoder beats zero-filling; baselines; history and oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from untrained_cs.mri import simulated_maps
from untrained_cs.mri.baselines import Model, grad, grad_adjoint, run_baselines, wavelet_shrink
from untrained_cs.mri.data import MRIData, default_image, simulate
from untrained_cs.mri.masks import cartesian_mask
from untrained_cs.mri.reconstruct import make_mri_generator, make_problem, reconstruct


@pytest.fixture(scope="module")
def problem_4x():
    data = simulate(default_image(64), coils=4)
    return make_problem(data, acceleration=4.0, kind="random", seed=1)


def test_deep_decoder_beats_zero_filling_by_3db_at_4x(problem_4x):
    gen = make_mri_generator("deep-decoder", problem_4x, channels=64, layers=4, seed=0)
    run = reconstruct(problem_4x, gen, baselines=(), max_iters=250, lr=0.01, device="cpu")
    zero = run.baselines["zero_filled"]
    assert run.psnr >= zero.psnr + 3.0, (run.psnr, zero.psnr)
    assert run.ssim > zero.ssim
    h = run.history
    assert h["iteration"][-1] == 250 and h["psnr"].shape == (len(h["iteration"]), 1)
    assert run.best_psnr == pytest.approx(float(np.nanmax(h["psnr"])))
    assert run.best_iteration in set(h["iteration"].tolist())
    assert run.estimate.shape == (64, 64)


def test_two_channel_model_runs_on_data_without_maps():
    data = simulate(default_image(32), coils=2)
    data = MRIData(data.kspace, data.target, None, "no maps")
    problem = make_problem(data, acceleration=2.0, seed=0)
    assert problem.model == "2ch" and problem.operator.in_shape == (4, 32, 32)
    gen = make_mri_generator("deep-decoder", problem, channels=16, layers=3, seed=0)
    run = reconstruct(problem, gen, baselines=(), max_iters=20, device="cpu")
    assert np.isfinite(run.psnr) and run.estimate.shape == (32, 32)
    with pytest.raises(ValueError, match="needs sensitivity maps"):
        make_problem(data, 2.0, model="sense")


def test_classical_baselines_beat_zero_filling():
    image = default_image(48)
    data = simulate(image, coils=4)
    mask = cartesian_mask(48, 4.0, seed=2).columns
    model = Model(mask, data.maps, real=True)
    y = data.kspace * mask

    def score(img):
        mse = float((img.abs().float() - image.float()).square().mean())
        return 10 * np.log10(1 / mse), 0.0

    grids = {"l1_wavelet": (1e-3,), "tv": (1e-2,)}
    res = run_baselines(model, y, score, grids=grids)
    assert set(res) == {"zero_filled", "l1_wavelet", "tv"}
    for name in ("l1_wavelet", "tv"):
        assert res[name].psnr > res["zero_filled"].psnr + 2.0, (name, res[name].psnr)


def test_baseline_building_blocks_are_exact():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 9, 7, dtype=torch.complex128, generator=g)
    q = torch.randn(2, 2, 9, 7, dtype=torch.complex128, generator=g)
    lhs = (grad(x).conj() * q).sum().real
    rhs = (x.conj() * grad_adjoint(q)).sum().real
    assert float(lhs) == pytest.approx(float(rhs), rel=1e-10)
    img = torch.randn(1, 32, 32, dtype=torch.complex128, generator=g)
    torch.testing.assert_close(wavelet_shrink(img, 0.0), img)  # orthonormal: exact at 0
    model = Model(torch.ones(32), simulated_maps(3, 32, 32).to(torch.complex128))
    y = torch.randn(3, 32, 32, dtype=torch.complex128, generator=g)
    lhs = (model.forward(img).conj() * y).sum()
    torch.testing.assert_close(lhs, (img.conj() * model.adjoint(y)).sum(), rtol=1e-5, atol=1e-5)
