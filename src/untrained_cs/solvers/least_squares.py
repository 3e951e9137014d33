"""Minimum-norm least squares x = A^+ y by conjugate gradients, batched over members.

CG runs on the normal equations in the CGLS form (Hestenes–Stiefel; Björck's *Numerical
Methods for Least Squares Problems*, §7.4): it is CG on A^T A x = A^T y started at x = 0,
equivalently CG on A A^T z = y with x = A^T z when y lies in the range of A. The CGLS form
never forms A^T A and stays well defined when y has a part outside the range of A (masked
k-space entries, more real measurements than unknowns): every iterate lies in the range of
A^T, so the limit is the minimum-norm least-squares solution A^+ y.
"""

from __future__ import annotations

import torch

from ..operators.base import LinearMap
from ..operators.checks import inner
from .norms import expand_to
from .result import SolveResult

#: iteration cap (exact arithmetic needs at most rank(A) iterations).
MAX_ITERS = 300
#: relative normal-equation residual ||A^T (y − A x)|| / ||A^T y|| to stop at, by dtype.
TOL = {torch.float32: 1e-6, torch.float64: 1e-12}


def real_dtype(y: torch.Tensor) -> torch.dtype:
    """The real dtype of measurements ``y`` (float32 for complex64, float64 for complex128)."""
    return y.real.dtype if y.is_complex() else y.dtype


def min_norm_solve(
    op: LinearMap, y: torch.Tensor, tol: float | None = None, max_iters: int = MAX_ITERS
) -> SolveResult:
    """A^+ y for every member of the batch ``y`` ``[B, *out_shape]``, with how CG ended.

    Args:
        op: the operator (real or R-linear real-to-complex).
        y: measurements on the operator's device, float32/float64 (or complex).
        tol: relative normal-equation residual to stop at (default :data:`TOL` by dtype).
        max_iters: iteration cap.

    Returns:
        a :class:`~untrained_cs.solvers.result.SolveResult`; ``residual`` is the final
        relative normal-equation residual per member.
    """
    dtype = real_dtype(y)
    tol = TOL.get(dtype, 1e-6) if tol is None else tol
    r = y.clone()
    s = op.adjoint(r)
    x = torch.zeros_like(s)
    p = s.clone()
    gamma = inner(s, s)
    tiny = torch.finfo(dtype).tiny
    start = gamma.clamp_min(tiny)
    done = gamma / start <= tol * tol
    it = 0
    while it < max_iters and not bool(done.all()):
        it += 1
        q = op(p)
        alpha = torch.where(done, 0.0, gamma / inner(q, q).clamp_min(tiny))
        x = x + expand_to(alpha, x) * p
        r = r - expand_to(alpha, r) * q
        s = op.adjoint(r)
        gamma_new = inner(s, s)
        done = done | (gamma_new / start <= tol * tol)
        beta = torch.where(done, 0.0, gamma_new / gamma.clamp_min(tiny))
        p = s + expand_to(beta, s) * p
        gamma = gamma_new
    return SolveResult(x, it, bool(done.all()), (gamma / start).sqrt())


def min_norm(
    op: LinearMap, y: torch.Tensor, tol: float | None = None, max_iters: int = MAX_ITERS
) -> torch.Tensor:
    """The minimum-norm least-squares estimate A^+ y ``[B, *in_shape]`` (:func:`min_norm_solve`)."""
    return min_norm_solve(op, y, tol, max_iters).x
