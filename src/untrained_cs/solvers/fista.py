"""FISTA for the ℓ1-wavelet problem min_x ½||A x − y||² + λ ||W_d x||_1, batched.

W is an orthonormal wavelet transform and W_d its detail coefficients (the approximation
band is not penalised), so the prox is exact soft-thresholding. The step is 1/L with
L = ||A||² measured by power iteration (Beck & Teboulle, SIAM J. Imaging Sci. 2009). Three
variants: plain FISTA (fast, not monotone), its monotone form MFISTA (Beck & Teboulle, IEEE
TIP 2009: keep the better of the prox point and the last iterate), and ISTA (no momentum).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..operators.base import LinearMap
from .least_squares import real_dtype
from .norms import expand_to, lipschitz_constant, member_norm
from .result import SolveResult
from .wavelets import WaveletTransform, l1_norm, prox_l1, wavelet_for

#: iteration cap, and the relative prox-gradient step ||u_k − z_k|| / ||u_k|| to stop at
#: (u_k = prox(z_k − ∇f(z_k)/L): zero exactly at a minimiser).
MAX_ITERS = 100
TOL = 1e-6
VARIANTS = ("fista", "mfista", "ista")

Weight = float | torch.Tensor


def _weight(lam: Weight, like: torch.Tensor) -> torch.Tensor:
    """λ as a per-member ``[B]`` (or ``[1]``) tensor in ``like``'s dtype and device."""
    return torch.as_tensor(lam, dtype=like.dtype, device=like.device).reshape(-1)


def l1_objective(
    op: LinearMap, y: torch.Tensor, x: torch.Tensor, lam: Weight, transform: WaveletTransform
) -> torch.Tensor:
    """½||A x − y||² + λ ||W_d x||_1 per member ``[B]``."""
    fit = 0.5 * member_norm(op(x) - y).square()
    return fit + _weight(lam, fit) * l1_norm(x, transform)


def _objective_with(
    ax: torch.Tensor, y: torch.Tensor, x: torch.Tensor, lam: torch.Tensor, w: WaveletTransform
) -> torch.Tensor:
    return 0.5 * member_norm(ax - y).square() + lam * l1_norm(x, w)


def _advance(
    variant: str, u: torch.Tensor, x: torch.Tensor, t: float, better: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(x_{k+1}, z_{k+1}, t_{k+1}) from the prox point ``u``, the last iterate and t_k."""
    t_new = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
    if variant == "ista":
        return u, u, t_new
    if variant == "fista":
        return u, u + ((t - 1.0) / t_new) * (u - x), t_new
    assert better is not None  # MFISTA: the better of u and x, momentum from both
    x_new = torch.where(expand_to(better, u), u, x)
    z = x_new + (t / t_new) * (u - x_new) + ((t - 1.0) / t_new) * (x_new - x)
    return x_new, z, t_new


def fista(
    op: LinearMap,
    y: torch.Tensor,
    lam: Weight,
    transform: WaveletTransform | None = None,
    *,
    variant: str = "fista",
    x0: torch.Tensor | None = None,
    max_iters: int = MAX_ITERS,
    tol: float = TOL,
    lipschitz: torch.Tensor | None = None,
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> SolveResult:
    """Minimise ½||A x − y||² + λ ||W_d x||_1 for every member of the batch.

    Args:
        op: the operator; y: measurements ``[B, *out_shape]`` on its device.
        lam: λ >= 0, a scalar or one per member ``[B]``.
        transform: the wavelet W (default :func:`~untrained_cs.solvers.wavelets.wavelet_for`
            of the operator's input shape).
        variant: ``"fista"``, ``"mfista"`` (monotone) or ``"ista"``.
        x0: start ``[B, *in_shape]`` (default zero); max_iters, tol: stopping rule.
        lipschitz: L >= ||A||² per draw (default measured by
            :func:`~untrained_cs.solvers.norms.lipschitz_constant`); the step is 1/L.
        callback: called as ``callback(iteration, x)`` after every iteration.

    Returns:
        a :class:`~untrained_cs.solvers.result.SolveResult` (residual = relative prox step).
    """
    if variant not in VARIANTS:
        raise ValueError(f"fista variant must be one of {VARIANTS}, got {variant!r}")
    dtype = real_dtype(y)
    w = transform or wavelet_for(tuple(op.in_shape))
    shape = (y.shape[0], *op.in_shape)
    x = torch.zeros(shape, dtype=dtype, device=y.device) if x0 is None else x0.to(y.device, dtype)
    step = 1.0 / (lipschitz_constant(op, dtype) if lipschitz is None else lipschitz.to(x))
    lam_t = _weight(lam, x)
    z, t, better = x, 1.0, None
    f_x = _objective_with(op(x), y, x, lam_t, w) if variant == "mfista" else None
    change = torch.full((x.shape[0],), math.inf, dtype=dtype, device=x.device)
    it = 0
    while it < max_iters and not bool((change <= tol).all()):
        it += 1
        u = prox_l1(z - expand_to(step, z) * op.adjoint(op(z) - y), step * lam_t, w)
        change = member_norm(u - z) / member_norm(u).clamp_min(torch.finfo(dtype).tiny)
        if f_x is not None:
            f_u = _objective_with(op(u), y, u, lam_t, w)
            better = f_u <= f_x
            f_x = torch.where(better, f_u, f_x)
        x, z, t = _advance(variant, u, x, t, better)
        if callback is not None:
            callback(it, x)
    return SolveResult(x, it, bool((change <= tol).all()), change)
