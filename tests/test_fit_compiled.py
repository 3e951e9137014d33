"""fit(compile=True): the fused resize equals the eager one, Adam's fused update equals its
foreach update, a failing compiler falls back to eager work with one warning, and (slow) a
compiled fit follows the eager fit and resumes bit-identically."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from untrained_cs.fit import compiled, fit, init_state
from untrained_cs.fit.compiled import adam_update
from untrained_cs.fit.loop import run_until
from untrained_cs.fit.optim import Adam
from untrained_cs.fit.state import FitState
from untrained_cs.generators import DeepDecoder
from untrained_cs.generators.layers import double_axis, upsample
from untrained_cs.operators import GaussianOperator


@pytest.fixture(autouse=True)
def _fresh_compiler():
    compiled.reset()
    yield
    compiled.reset()


@pytest.mark.parametrize(
    ("mode", "shape"),
    [
        ("bilinear", (2, 3, 5, 7)),
        ("linear", (2, 3, 9)),
        ("linear", (1, 2, 3, 4, 5)),
        ("nearest", (2, 3, 4, 6)),
    ],  # fmt: skip
)
def test_doubling_stencil_equals_native_interpolation(mode, shape):
    x = torch.randn(*shape, dtype=torch.float64)
    out = x
    for dim in range(2, x.dim()):
        out = double_axis(out, dim, mode)
    size = tuple(2 * s for s in shape[2:])
    assert torch.allclose(out, upsample(x, size, mode), rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    ("out_shape", "input_size"),
    [((1, 32, 32), None), ((1, 24, 40), (3, 5)), ((1, 20, 30), (4, 4)), ((1, 4, 16, 16), None)],
)
def test_the_fused_resize_equals_the_eager_one_at_every_layer(out_shape, input_size):
    gen = DeepDecoder(out_shape, channels=3, layers=4, input_size=input_size, seed=1).double()
    for i in range(gen.layers - 1):
        x = torch.randn(1, 3, *gen.sizes[i], dtype=torch.float64)
        assert torch.allclose(gen._resample_fused(x, i), gen._resample(x, i), atol=1e-12)


def _adam_pair(steps):
    torch.manual_seed(0)
    params = [torch.randn(3, 4, 5), torch.randn(3, 7)]
    grads = [[torch.randn_like(p) for p in params] for _ in range(4)]
    eager = Adam([p.clone() for p in params], torch.tensor([1e-2, 2e-2, 5e-3]))
    fused = Adam([p.clone() for p in params], torch.tensor([1e-2, 2e-2, 5e-3]))
    eager.steps[:] = fused.steps[:] = steps
    return eager, fused, grads


@pytest.mark.parametrize("steps", [[0, 0, 0], [0, 3, 7]])  # one step count; members queued
def test_the_fused_adam_update_is_adams_update(steps):
    eager, fused, grads = _adam_pair(np.array(steps))
    for g in grads:
        eager.step([t.clone() for t in g])
        t = fused.steps + 1
        fused.steps = t
        both = np.stack([1 - fused.beta1**t, np.sqrt(1 - fused.beta2**t)], 1)
        corrections = torch.as_tensor(both, dtype=torch.float32)
        adam_update(fused.params, [t.clone() for t in g], fused.m, fused.v, fused.lr_per_param,
                    corrections, (fused.beta1, fused.beta2), fused.eps)  # fmt: skip
    for a, b in zip(eager.state_tensors(), fused.state_tensors(), strict=True):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)


def _problem(seed=0):
    torch.manual_seed(seed)
    truth = torch.rand(1, 1, 16, 16)
    op = GaussianOperator((1, 16, 16), 96, seed=seed)
    return truth, op, op(truth)


def _generator():
    return DeepDecoder((1, 16, 16), channels=8, layers=3, seed=0)


class _CompilerMissing(RuntimeError):
    """Stands for the compiler stack's errors (its module is torch._inductor's)."""


_CompilerMissing.__module__ = "torch._inductor.exc"


def test_a_failing_compiler_warns_once_and_the_fit_runs_eagerly(monkeypatch):
    def broken(function):
        def fail(*args):
            raise _CompilerMissing("InvalidCxxCompiler: No working C++ compiler found")

        return fail

    monkeypatch.setattr(compiled, "_compiled_version", broken)
    truth, op, y = _problem()
    eager = fit(_generator(), op, y, truth=truth, max_iters=60)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fallen = fit(_generator(), op, y, truth=truth, max_iters=60, compile=True)
    said = [w for w in caught if "torch.compile failed" in str(w.message)]
    assert len(said) == 1 and "No working C++ compiler" in str(said[0].message)
    assert compiled.compile_failure() is not None
    # the forward pass is the eager one; Adam's fused update differs by rounding only
    np.testing.assert_allclose(fallen.history["loss"], eager.history["loss"], rtol=1e-3)


def test_an_error_that_is_not_the_compilers_is_raised(monkeypatch):
    def wrong(function):
        def fail(*args):
            raise ValueError("shapes do not match")

        return fail

    monkeypatch.setattr(compiled, "_compiled_version", wrong)
    truth, op, y = _problem()
    with pytest.raises(ValueError, match="shapes do not match"):
        fit(_generator(), op, y, truth=truth, max_iters=5, compile=True)
    assert compiled.compile_failure() is None


def test_compile_is_a_saved_setting(tmp_path):
    truth, op, y = _problem()
    state = init_state(_generator(), op, y, truth=truth, max_iters=5, compile=True)
    assert state.settings.compile and state.opt.compiled
    assert state.settings.to_dict()["compile"] is True
    path = state.save(tmp_path / "state.pt")
    loaded = FitState.load(path, _generator(), op, y, truth)
    assert loaded.settings.compile and loaded.opt.compiled


@pytest.mark.slow
def test_a_compiled_fit_follows_the_eager_fit_and_resumes_bit_identically(tmp_path):
    truth, op, y = _problem()
    eager = fit(_generator(), op, y, truth=truth, max_iters=40)
    fused = fit(_generator(), op, y, truth=truth, max_iters=40, compile=True)
    assert compiled.compile_failure() is None
    # rounding differs (fused kernels), the trajectory does not
    np.testing.assert_allclose(fused.history["loss"], eager.history["loss"], rtol=2e-3)
    whole = init_state(_generator(), op, y, truth=truth, max_iters=40, compile=True)
    run_until(whole)
    half = init_state(_generator(), op, y, truth=truth, max_iters=40, compile=True)
    run_until(half, max_iteration=20)
    path = half.save(tmp_path / "half.pt")
    resumed = FitState.load(path, _generator(), op, y, truth)
    run_until(resumed)
    for a, b in zip(whole.generator.parameters(), resumed.generator.parameters(), strict=True):
        assert torch.equal(a, b)
