"""The colour and inverse-problem bench cases build the problems and methods they name."""

from __future__ import annotations

import torch

from bench.cases import CPU_CASES
from bench.colour import COLOUR_IMAGES, SETTINGS
from bench.inverse import METHODS, PROBLEMS, solve_all, spec_of
from bench.reference import ReferenceFit
from bench.sides import image_problem
from untrained_cs.methods import GeneratorFit, Solver
from untrained_cs.problems import build


def test_cases_are_registered():
    assert {"colour", "inverse"} <= set(CPU_CASES)


def test_colour_problem_keeps_rgb_and_measures_every_entry():
    problem = image_problem(COLOUR_IMAGES[0], 16, 0.25, seed=0, image_channels=None)
    assert problem.truth.shape == (3, 16, 16)
    assert problem.n == 3 * 16 * 16 and problem.m == 3 * 16 * 16 // 4
    grey = image_problem(COLOUR_IMAGES[0], 16, 0.25, seed=0)
    assert grey.truth.shape == (1, 16, 16)
    # the reference recipe fits the same matrix with a 3-channel output
    ref = ReferenceFit(problem.truth, problem.operator.matrix[0], channels=8, layers=3)
    assert ref.net(ref.noise).shape == (1, 3, 16, 16)
    assert torch.allclose(ref.y, problem.y[0], atol=1e-4)


def test_colour_default_row_leaves_every_setting_to_the_library():
    assert set(SETTINGS[""].values()) == {None}


def test_inverse_specs_name_registered_operators_and_no_oracle():
    for name, p in PROBLEMS.items():
        spec = spec_of("camera", name)
        assert spec.measurement.operator == p["operator"]  # already canonical text
        assert spec.measurement.noise_std == p["noise_std"] > 0
    assert isinstance(METHODS["deep_decoder"], GeneratorFit)
    assert METHODS["deep_decoder"] == GeneratorFit()  # the defaults, nothing set
    solvers = [m for m in METHODS.values() if isinstance(m, Solver)]
    assert all(m.weight_choice != "oracle" for m in solvers)
    superres = build(spec_of("camera", "superres4"))
    assert superres.y.shape[-2:] == (32, 32) and superres.truth.shape == (1, 128, 128)


def test_inverse_reference_methods_score_the_noisy_image():
    """For denoising, A⁺y and Aᵀy are both y itself: their scores agree."""
    out = solve_all("camera", "denoise", methods=("min_norm", "zero_filled"))
    scores = out["methods"]
    assert out["m"] == out["n"] == 64 * 64
    assert scores["min_norm"]["psnr"] == scores["zero_filled"]["psnr"]
    # unclipped noise of σ = 0.1 on an image in [0, 1]: PSNR = -10 log10(σ²) ≈ 20 dB
    assert 19.5 < scores["zero_filled"]["psnr"] < 20.5
