"""The fit's TV term: λ_b TV(G) in the loss, λ_b = tv_weight × max|Aᵀy_b|; off by default
(the paper's loss), on by default for MRI, never under the published recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from untrained_cs.defaults import fit_defaults
from untrained_cs.fit import FitState, continue_fit, fit, init_state, run_until
from untrained_cs.fit.compiled import TV_EPS, forward_pass
from untrained_cs.fit.inputs import squared_norms
from untrained_cs.fit.state import tv_weights
from untrained_cs.generators import DeepDecoder
from untrained_cs.io.images import load_image
from untrained_cs.methods import GeneratorFit
from untrained_cs.operators import make_operator
from untrained_cs.solvers import total_variation

SETTINGS = {"max_iters": 300, "check_every": 50, "device": "cpu"}


def _problem(batch: int = 1):
    """Shepp–Logan at 16² (piecewise constant), a Gaussian operator at m = n/8."""
    x = load_image("shepp_logan", 16)
    op = make_operator("gaussian", (1, 16, 16), 0.125, seed=3)
    g = DeepDecoder((1, 16, 16), channels=8, layers=3, seed=list(range(batch)))
    y = op(x[None]).expand(batch, -1).clone()
    y[1:] *= 2.0  # a second member at twice the scale: its own weight
    return g, op, y, x


def test_the_weight_is_relative_to_each_members_adjoint_peak() -> None:
    g, op, y, _ = _problem(batch=2)
    w = tv_weights(op, y, 0.01)
    assert w is not None
    peaks = op.adjoint(y).abs().reshape(2, -1).amax(1)
    assert torch.allclose(w, 0.01 * peaks)
    assert torch.allclose(w[1], 2 * w[0])
    assert tv_weights(op, y, 0.0) is None


def test_the_loss_is_the_data_term_plus_the_weighted_smoothed_tv() -> None:
    g, op, y, _ = _problem(batch=2)
    w = torch.tensor([0.5, 2.0])
    out, residual, loss = forward_pass(g, op, y, None, w)
    plain = 0.5 * squared_norms(op(out) - y)
    tv = total_variation(out, 2, eps=TV_EPS)
    assert torch.allclose(loss, plain + w * tv)
    assert torch.all(tv > 0)
    _, _, without = forward_pass(g, op, y, None, None)
    assert torch.equal(without, plain)


def test_weight_zero_is_the_papers_fit_bit_for_bit() -> None:
    g, op, y, x = _problem()
    ref = fit(g, op, y, truth=x, **SETTINGS)
    got = fit(g, op, y, truth=x, tv_weight=0.0, **SETTINGS)
    assert torch.equal(ref.estimate, got.estimate)
    assert np.array_equal(ref.history["loss"], got.history["loss"])


def test_the_tv_term_lowers_the_estimates_tv_and_helps_a_piecewise_constant_image() -> None:
    g, op, y, x = _problem()
    plain = fit(g, op, y, truth=x, **SETTINGS)
    with_tv = fit(g, op, y, truth=x, tv_weight=0.05, **SETTINGS)
    tv = [float(total_variation(r.estimate, 2)) for r in (plain, with_tv)]
    assert tv[1] < 0.6 * tv[0], tv
    psnr = [-10 * np.log10(float((r.estimate[0] - x).square().mean())) for r in (plain, with_tv)]
    assert psnr[1] > psnr[0] + 2.0, psnr  # Shepp–Logan at m = n/8: 8.6 → 11.7 dB


def test_a_fit_with_a_tv_term_resumes_bit_identically(tmp_path: Path) -> None:
    g, op, y, x = _problem()
    ref = fit(g, op, y, truth=x, tv_weight=0.02, **SETTINGS)
    state = init_state(g, op, y, truth=x, tv_weight=0.02, **SETTINGS)
    assert run_until(state, max_iteration=120) == "paused"
    path = state.save(tmp_path / "state.pt")
    g2, op2, y2, x2 = _problem()
    loaded = FitState.load(path, g2, op2, y2, truth=x2)
    assert loaded.settings.tv_weight == 0.02
    got = continue_fit(loaded)
    assert torch.equal(ref.estimate, got.estimate)


def test_a_queued_fit_keeps_each_members_weight() -> None:
    g, op, y, _ = _problem(batch=2)  # float64: 300 Adam steps amplify float32 rounding
    g, op, y = g.double(), op.double(), y.double()
    alone = fit(g, op, y, tv_weight=0.02, **SETTINGS)
    queued = fit(g, op, y, tv_weight=0.02, cap=1, **SETTINGS)
    assert torch.allclose(alone.estimate, queued.estimate, atol=1e-4)
    assert np.array_equal(alone.stop_iteration, queued.stop_iteration)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_a_bad_weight_is_refused(bad: float) -> None:
    g, op, y, _ = _problem()
    with pytest.raises(ValueError, match="tv_weight must be a finite number >= 0"):
        init_state(g, op, y, tv_weight=bad, device="cpu")
    with pytest.raises(ValueError, match="tv_weight must be a finite number >= 0"):
        GeneratorFit(tv_weight=bad)


def test_defaults_mri_on_the_paper_and_published_recipe_off() -> None:
    mri = fit_defaults("mri", "deep-decoder")
    assert mri["tv_weight"] > 0
    assert "tv_weight" not in fit_defaults("mri", "deep-decoder", recipe="published")
    assert "tv_weight" not in fit_defaults("mri", "deep-decoder", optimizer="gd")
    assert "tv_weight" not in fit_defaults("image", "deep-decoder")
    assert GeneratorFit().resolved("mri").tv_weight == mri["tv_weight"]
    assert GeneratorFit(tv_weight=0.0).resolved("mri").tv_weight == 0.0
    assert "tv_weight" not in GeneratorFit().resolved("image").to_dict()
    assert GeneratorFit().resolved("mri").rule_overrides()["tv_weight"] == mri["tv_weight"]
