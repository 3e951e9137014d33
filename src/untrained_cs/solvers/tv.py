"""Total variation: the discrete gradient, its exact adjoint, and PDHG for TV-regularised
least squares min_x ½||A x − y||² + λ TV(x), batched.

∇ is the forward difference along each spatial axis with a zero at the far edge (Neumann),
so ||∇||² <= 4 per axis: 4 in 1D, 8 in 2D, 12 in 3D. TV is isotropic: the sum over pixels
(and channels) of the Euclidean norm of the gradient; with ``couple_channels`` the norm is
taken over the gradients of all channels of a pixel together (vectorial TV, for colour:
edges shared by the channels cost once). PDHG is Chambolle & Pock's primal-dual
method (J. Math. Imaging Vis. 2011) on K = (A, ∇). Dividing the objective by
L = ||A||² (power iteration) leaves its minimiser unchanged and gives K = (A/√L, ∇) with
||K||² <= 1 + ||∇||²; the steps τ = σ = θ/||K|| with θ < 1 satisfy τσ||K||² < 1 whatever the
scale of A.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..operators.base import LinearMap
from .least_squares import real_dtype
from .norms import expand_to, lipschitz_constant, member_norm, spatial_ndim
from .result import SolveResult

#: iteration cap and the relative change ||x_k − x_{k−1}|| / ||x_k|| to stop at.
MAX_ITERS = 200
TOL = 1e-6
#: τσ||K||² = STEP_MARGIN² < 1.
STEP_MARGIN = 0.99
#: bound on ||∇||² per spatial dimensionality.
GRADIENT_NORM_SQ = {1: 4.0, 2: 8.0, 3: 12.0}

Weight = float | torch.Tensor


def gradient(x: torch.Tensor, ndim: int = 2) -> torch.Tensor:
    """Forward differences along the last ``ndim`` axes, zero at the far edge: ``[ndim, *x]``."""
    parts = []
    for axis in range(x.dim() - ndim, x.dim()):
        d = torch.zeros_like(x)
        n = x.shape[axis]
        d.narrow(axis, 0, n - 1).copy_(x.narrow(axis, 1, n - 1) - x.narrow(axis, 0, n - 1))
        parts.append(d)
    return torch.stack(parts)


def gradient_adjoint(q: torch.Tensor) -> torch.Tensor:
    """The exact adjoint ∇^T of :func:`gradient` (minus the divergence), ``q`` ``[ndim, ...]``."""
    ndim = q.shape[0]
    out = torch.zeros_like(q[0])
    for i in range(ndim):
        axis = out.dim() - ndim + i
        n = out.shape[axis]
        inner = q[i].narrow(axis, 0, n - 1)
        out.narrow(axis, 0, n - 1).sub_(inner)
        out.narrow(axis, 1, n - 1).add_(inner)
    return out


def _pixel_norm(g: torch.Tensor, couple_channels: bool, eps: float = 0.0) -> torch.Tensor:
    """The Euclidean norm of each pixel's gradient ``g`` ``[ndim, B, C, ...]``: over the
    gradient axis, and with ``couple_channels`` over the channels too (kept as size 1);
    ``eps`` > 0 gives √(|g|² + eps)."""
    sq = g.abs().square().sum(0)
    sq = sq.sum(1, keepdim=True) if couple_channels else sq
    return (sq + eps).sqrt() if eps > 0 else sq.sqrt()


def total_variation(
    x: torch.Tensor, ndim: int = 2, couple_channels: bool = False, eps: float = 0.0
) -> torch.Tensor:
    """Isotropic TV(x) = Σ_pixels ||(∇x)_pixel||_2 per member ``[B]`` (channels summed, or
    coupled in one norm per pixel). ``eps`` > 0 smooths each norm to √(|∇x|² + eps), which
    has a gradient at flat pixels (for a TV term fitted by autograd)."""
    norm = _pixel_norm(gradient(x, ndim), couple_channels, eps)
    return norm.reshape(x.shape[0], -1).sum(1)


def tv_objective(
    op: LinearMap,
    y: torch.Tensor,
    x: torch.Tensor,
    lam: Weight,
    ndim: int | None = None,
    couple_channels: bool = False,
) -> torch.Tensor:
    """½||A x − y||² + λ TV(x) per member ``[B]``."""
    nd = spatial_ndim(tuple(op.in_shape)) if ndim is None else ndim
    fit = 0.5 * member_norm(op(x) - y).square()
    lam_t = torch.as_tensor(lam, dtype=fit.dtype, device=fit.device).reshape(-1)
    return fit + lam_t * total_variation(x, nd, couple_channels)


def _project(q: torch.Tensor, radius: torch.Tensor, couple_channels: bool) -> torch.Tensor:
    """Project every pixel's gradient vector ``q[:, b, ...]`` onto the ball of ``radius[b]``
    (with ``couple_channels``: the vector of all its channels' gradients)."""
    norm = _pixel_norm(q, couple_channels)
    r = expand_to(radius.clamp_min(torch.finfo(norm.dtype).tiny), norm)
    return q / (norm / r).clamp_min(1.0)


def tv_pdhg(
    op: LinearMap,
    y: torch.Tensor,
    lam: Weight,
    *,
    ndim: int | None = None,
    x0: torch.Tensor | None = None,
    max_iters: int = MAX_ITERS,
    tol: float = TOL,
    lipschitz: torch.Tensor | None = None,
    callback: Callable[[int, torch.Tensor], None] | None = None,
    couple_channels: bool = False,
) -> SolveResult:
    """Minimise ½||A x − y||² + λ TV(x) for every member of the batch by PDHG.

    Args:
        op: the operator; y: measurements ``[B, *out_shape]`` on its device.
        lam: λ >= 0, a scalar or one per member ``[B]``.
        ndim: spatial axes of TV (default from the input shape: 1 for ``[C, n]``, 2 for
            ``[C, H, W]``, 3 for ``[C, D, H, W]``).
        x0: start ``[B, *in_shape]`` (default zero); max_iters, tol: stopping rule.
        lipschitz: L >= ||A||² per draw (default measured by
            :func:`~untrained_cs.solvers.norms.lipschitz_constant`).
        callback: called as ``callback(iteration, x)`` after every iteration.
        couple_channels: one norm per pixel over all channels (vectorial TV for colour).

    Returns:
        a :class:`~untrained_cs.solvers.result.SolveResult` (residual = relative change).
    """
    dtype = real_dtype(y)
    nd = spatial_ndim(tuple(op.in_shape)) if ndim is None else ndim
    shape = (y.shape[0], *op.in_shape)
    x = torch.zeros(shape, dtype=dtype, device=y.device) if x0 is None else x0.to(y.device, dtype)
    lip = lipschitz_constant(op, dtype) if lipschitz is None else lipschitz.to(x)
    s = lip.sqrt()  # A/s has norm below 1
    radius = torch.as_tensor(lam, dtype=dtype, device=y.device).reshape(-1) / s.square()
    tau = sigma = STEP_MARGIN / math.sqrt(1.0 + GRADIENT_NORM_SQ[nd])
    x_bar, p, q = x, torch.zeros_like(y), torch.zeros_like(gradient(x, nd))
    change = torch.full((shape[0],), math.inf, dtype=dtype, device=y.device)
    it = 0
    while it < max_iters and not bool((change <= tol).all()):
        it += 1
        p = (p + sigma * (op(x_bar) - y) / expand_to(s, y)) / (1.0 + sigma)
        q = _project(q + sigma * gradient(x_bar, nd), radius, couple_channels)
        x_new = x - tau * (op.adjoint(p) / expand_to(s, x) + gradient_adjoint(q))
        change = member_norm(x_new - x) / member_norm(x_new).clamp_min(torch.finfo(dtype).tiny)
        x_bar, x = 2.0 * x_new - x, x_new
        if callback is not None:
            callback(it, x)
    return SolveResult(x, it, bool((change <= tol).all()), change)
