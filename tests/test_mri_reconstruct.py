"""The MRI pipeline: the deep decoder beats zero-filling; baselines; history and oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from untrained_cs.methods import GeneratorFit, Solver
from untrained_cs.mri.baselines import mri_baselines, zero_filled
from untrained_cs.mri.data import MRIData, default_image, simulate
from untrained_cs.mri.fft import ifft2c, rss
from untrained_cs.mri.problem import make_problem
from untrained_cs.pipeline import run
from untrained_cs.problems import MRIMeasurement, MRISignal, ProblemSpec, build


@pytest.fixture(scope="module")
def problem_4x():
    spec = ProblemSpec(MRISignal(size=64, coils=4), MRIMeasurement(4.0), seed=0)
    return build(spec)


def test_deep_decoder_beats_zero_filling_by_3db_at_4x(problem_4x):
    method = GeneratorFit("deep-decoder", channels=64, layers=4, lr=0.01, max_iters=250)
    record = run(problem_4x, method, device="cpu")
    zero = run(problem_4x, Solver("zero_filled"))
    assert record.metrics["psnr"] >= zero.metrics["psnr"] + 3.0
    assert record.metrics["ssim"] > zero.metrics["ssim"]
    h = record.history
    assert h["iteration"][-1] == 250 and h["psnr"].shape == (len(h["iteration"]), 1)
    assert record.metrics["best_psnr"] == pytest.approx(float(np.nanmax(h["psnr"])))
    assert record.metrics["best_iteration"] in set(h["iteration"].tolist())
    assert record.estimate.shape == (64, 64)
    # the history's last PSNR is the estimate's own, scored in the same (magnitude) space
    assert h["psnr"][-1, 0] == pytest.approx(record.metrics["psnr"], abs=1e-4)


def test_two_channel_model_runs_on_data_without_maps():
    data = simulate(default_image(32), coils=2)
    data = MRIData(data.kspace, data.target, None, "no maps")
    problem = make_problem(data, acceleration=2.0, seed=0)
    assert problem.model == "2ch" and problem.operator.in_shape == (4, 32, 32)
    spec = ProblemSpec(MRISignal(size=32, coils=2), MRIMeasurement(2.0, model="2ch"))
    record = run(build(spec), GeneratorFit(channels=16, layers=3, max_iters=20), device="cpu")
    assert np.isfinite(record.metrics["psnr"]) and record.estimate.shape == (32, 32)
    sense = make_problem(data, 2.0, model="sense")  # maps estimated from the centre
    assert sense.model == "sense" and sense.operator.maps.shape == (2, 32, 32)


@pytest.mark.parametrize("model", ["sense", "2ch"])
def test_classical_baselines_on_the_problem_operator_beat_zero_filling(model):
    problem = make_problem(simulate(default_image(48), coils=4), 4.0, seed=2, model=model)
    grid = {"l1_wavelet": (1e-6, 1e-3), "tv": (1e-2,)}
    res = mri_baselines(problem, ("min_norm", "l1_wavelet", "tv"), grid=grid)
    assert list(res) == ["zero_filled", "min_norm", "l1_wavelet", "tv"]
    assert res["zero_filled"].weight is None and res["tv"].weight_choice == "oracle"
    zf = res["zero_filled"].psnr
    assert res["tv"].psnr > zf + 2.0 and res["tv"].image.shape == problem.target.shape
    if model == "2ch":  # A A^T is a projection: A^+ y = A^T y, the zero-filled coil images
        assert res["min_norm"].psnr == pytest.approx(zf, abs=1e-3)
        # coil images with phase: converged ℓ1 at 1e-3 ends below zero-filling at 48 x 48, so
        # the oracle takes 1e-6, near least squares (for 2ch: zero-filling), and ends at or
        # above zero-filling
        assert res["l1_wavelet"].weight < 1e-3 * float(
            problem.operator.adjoint(problem.y).abs().max()
        )
        assert zf <= res["l1_wavelet"].psnr < zf + 1.0
    else:  # real image, 4 coils at 4x: 2n real measurements, least squares nearly exact
        assert res["min_norm"].psnr > zf + 15.0 and res["l1_wavelet"].psnr > zf + 10.0


def test_zero_filled_is_the_rss_of_the_adjoint_for_the_two_channel_model():
    problem = make_problem(simulate(default_image(32), coils=3), 4.0, seed=0, model="2ch")
    op, y = problem.operator, problem.y
    via_adjoint = problem.magnitude(op.combine(op.adjoint(y))[0])
    previous = problem.magnitude(rss(ifft2c(y[0] * op.mask[0])))  # the former definition
    torch.testing.assert_close(zero_filled(problem), via_adjoint)
    torch.testing.assert_close(zero_filled(problem), previous)
