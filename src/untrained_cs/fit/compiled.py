"""An iteration's work, compiled: the forward pass and the Adam update (``torch.compile``).

The loss per member is ½‖A G(θ) − y‖² (over the fitted entries), plus λ_b TV(G(θ)) when the
fit has a TV term (:attr:`~untrained_cs.fit.settings.FitSettings.tv_weight`; TV smoothed by
:data:`TV_EPS`, so that a flat pixel has a gradient).

With ``compile=True`` the pass G(θ) → A G(θ) − y → loss per member goes through
``torch.compile`` (TorchInductor), which fuses the generator's elementwise chain (upsample,
ReLU, channel norm, sigmoid) and the loss into fewer passes over memory, forward and
backward (autograd runs through the compiled graph), and Adam's update becomes one fused
loop per parameter (:func:`adam_update`). The host-side checks stay eager. Measured
against the eager iteration in ``python -m bench.iteration``.

The compiled code is cached on disk by TorchInductor, in
``$XDG_CACHE_HOME/untrained-cs/inductor`` (``~/.cache/...``) unless
``TORCHINDUCTOR_CACHE_DIR`` is set, so only the first run of a shape pays the full
compilation. Where compilation fails (no C++ compiler, an operator TorchInductor cannot
lower), the fit warns once and continues eagerly: the numbers then are the eager ones.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from ..generators.base import Generator
from ..operators.base import Operator
from ..solvers.norms import spatial_ndim
from ..solvers.tv import total_variation
from .inputs import squared_norms

#: the smoothing of the fit's TV term: √(|∇G|² + TV_EPS) per pixel (images peak near 1)
TV_EPS = 1e-8

#: why compilation was given up in this process (None: not given up)
_failure: str | None = None
#: the compiled functions of this process, by name (built on first use)
_compiled: dict[str, Any] = {}


def forward_pass(
    generator: Generator,
    operator: Operator,
    y: torch.Tensor,
    keep: torch.Tensor | None = None,
    tv: torch.Tensor | None = None,
    *,
    compile: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The output G(θ), the residual A G(θ) − y and the per-member loss ``[b]``.

    Args:
        generator, operator, y: the compute batch's modules and measurements.
        keep: the fitted entries' mask under a hold-out (None: every entry is fitted).
        tv: the TV term's weight per member ``[b]`` (None: no TV term).
        compile: run the pass through ``torch.compile`` (falls back to eager, with one
            warning per process, where compilation fails).
    """
    return _call(_pass, compile, generator, operator, y, keep, tv)


def adam_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    m: list[torch.Tensor],
    v: list[torch.Tensor],
    lrs: list[torch.Tensor],
    corrections: torch.Tensor,
    betas: tuple[float, float],
    eps: float,
    *,
    compile: bool = False,
) -> None:
    """Adam's update in place, per member: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
    θ ← θ − η_b (m / c₁) / (√v / c₂ + ε).

    Args:
        params, grads, m, v: the parameters, their gradients and moments (rows = members).
        lrs: per parameter, the members' rates shaped to broadcast over its rows.
        corrections: ``[B, 2]``: each member's bias corrections c₁ = 1 − β₁ᵗ and
            c₂ = √(1 − β₂ᵗ) (tensors, so that the step count never recompiles).
        betas, eps: Adam's constants.
        compile: fuse each parameter's update into one compiled loop.
    """
    _call(_adam, compile, params, grads, m, v, lrs, corrections, betas[0], betas[1], eps)


def _call(function: Any, compile: bool, *args: Any) -> Any:
    """``function(*args)``, compiled when asked and compilation has not failed here."""
    global _failure
    if compile and _failure is None:
        try:
            return _compiled_version(function)(*args)
        except Exception as exc:  # noqa: BLE001 - any failure to compile means: run eagerly
            if not _is_compile_failure(exc):
                raise
            _failure = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
            warnings.warn(
                f"torch.compile failed ({_failure}); fitting without compilation",
                RuntimeWarning,
                stacklevel=3,
            )
    return function(*args)


def compile_failure() -> str | None:
    """Why compilation was given up in this process (None: it was not)."""
    return _failure


def _pass(
    generator: Generator,
    operator: Operator,
    y: torch.Tensor,
    keep: torch.Tensor | None,
    tv: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    out = generator()
    residual = operator.matvec(out) - y
    loss = 0.5 * squared_norms(residual if keep is None else residual * keep)
    if tv is not None:
        ndim = spatial_ndim(tuple(out.shape[1:]))
        loss = loss + tv * total_variation(out, ndim, eps=TV_EPS).to(loss.dtype)
    return out, residual, loss


def _adam(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    ms: list[torch.Tensor],
    vs: list[torch.Tensor],
    lrs: list[torch.Tensor],
    corrections: torch.Tensor,
    beta1: float,
    beta2: float,
    eps: float,
) -> None:
    with torch.no_grad():
        for p, g, m, v, lr in zip(params, grads, ms, vs, lrs, strict=True):
            bias, root = corrections.reshape(-1, 2, *[1] * (p.dim() - 1)).unbind(1)
            m.lerp_(g, 1.0 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)
            p.sub_(m * (lr / bias) / (v.sqrt() / root + eps))


def _compiled_version(function: Any) -> Any:
    name = function.__name__
    if name not in _compiled:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(cache_folder()))
        _compiled[name] = torch.compile(function)
    return _compiled[name]


def cache_folder() -> Path:
    """Where the compiled code is kept between runs (unless TORCHINDUCTOR_CACHE_DIR)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "untrained-cs" / "inductor"


def _is_compile_failure(exc: Exception) -> bool:
    """Whether ``exc`` came from the compiler stack (dynamo, inductor, the C++ build)."""
    module = type(exc).__module__ or ""
    if module.startswith(("torch._dynamo", "torch._inductor", "torch._functorch")):
        return True
    return "inductor" in str(exc).lower() or "compile" in type(exc).__name__.lower()


def reset() -> None:
    """Forget the compiled pass and any failure (tests; a changed compiler setting)."""
    global _failure
    _failure = None
    _compiled.clear()
    torch._dynamo.reset()
