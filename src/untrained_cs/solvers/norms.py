"""Operator norms by power iteration, and the per-member reductions and shapes solvers share.

Every solver here takes its step sizes from ``||A||`` measured on the operator itself (never
an assumed ``||A|| <= 1``). Power iteration approaches ``||A||`` from below, so the
Lipschitz constant ``L = ||A||^2`` used for steps carries a small safety factor.
"""

from __future__ import annotations

import torch

from ..operators.base import LinearMap
from ..operators.checks import inner, random_input

#: power iterations on A^T A (the top eigenvalue of a tiny or masked operator converges fast).
NORM_ITERS = 30
#: L = LIPSCHITZ_SAFETY * ||A||^2 covers power iteration's underestimate.
LIPSCHITZ_SAFETY = 1.05


def expand_to(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-member vector ``[B]`` (or ``[1]``) shaped to broadcast against ``like``."""
    return v.reshape(-1, *[1] * (like.dim() - 1))


def spatial_ndim(in_shape: tuple[int, ...]) -> int:
    """Spatial axes of a signal ``[C, *spatial]``: 1 for ``[C, n]``/``[n]``, 2 for images
    ``[C, H, W]``, 3 for volumes ``[C, D, H, W]``."""
    return max(1, min(3, len(in_shape) - 1))


def member_norm(t: torch.Tensor) -> torch.Tensor:
    """Euclidean norm of each batch member ``[B]`` (complex entries count |z|^2)."""
    return inner(t, t).clamp_min(0.0).sqrt()


def weight_scale(op: LinearMap, y: torch.Tensor) -> torch.Tensor:
    """max|Aᵀy_b| per member ``[B]``: the scale that regularisation weights are given
    relative to (it moves with λ when A and y are rescaled), by the baselines and the fit's
    TV term alike."""
    with torch.no_grad():
        return op.adjoint(y).abs().reshape(y.shape[0], -1).amax(dim=1)


def operator_norm(
    op: LinearMap, iters: int = NORM_ITERS, seed: int = 0, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Largest singular value of A per independent draw (power iteration on A^T A).

    Args:
        op: the operator (R-linear for real-to-complex maps: A^T is its real adjoint).
        iters: power iterations; seed: the random start; dtype: real dtype of the iterates.

    Returns:
        ``[count]`` (``[1]`` for a single operator) on the operator's device.
    """
    x = random_input(op, seed, dtype=dtype)
    sigma = torch.zeros(x.shape[0], dtype=dtype, device=x.device)
    for _ in range(iters):
        x = x / expand_to(member_norm(x).clamp_min(1e-30), x)
        z = op.adjoint(op(x))
        sigma = member_norm(z).sqrt()
        x = z
    return sigma


def lipschitz_constant(
    op: LinearMap,
    dtype: torch.dtype = torch.float32,
    iters: int = NORM_ITERS,
    safety: float = LIPSCHITZ_SAFETY,
) -> torch.Tensor:
    """L = safety * ||A||^2, the Lipschitz constant of the gradient of ½||Ax − y||², ``[count]``.

    Args:
        op: the operator; dtype: real dtype of the power iterates; iters: power iterations;
        safety: factor >= 1 over the power-iteration estimate.

    Returns:
        ``[count]`` on the operator's device, floored away from zero.
    """
    return (safety * operator_norm(op, iters, dtype=dtype).square()).clamp_min(1e-30)
