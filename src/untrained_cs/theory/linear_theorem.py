r"""Theorem 1 (Section 3): compressive sensing with a linear generator x = J c.

With y = A x^*, the minimum-norm coefficients \hat c = (AJ)^+ y (which gradient descent
from c = 0 reaches) give \hat x = J \hat c with

    \|\hat x - x^*\|^2 \le C \Big(\sum_i \langle w_i, x^*\rangle^2/\sigma_i^2\Big)
    \sum_{i > 2m/3} \sigma_i^2 \qquad (7)

(w_i, \sigma_i the left singular vectors/values of J). For \sigma_i^2 = \gamma^i and x^* in
the span of w_1..w_{m/3} this is C \gamma^{m/3}/(1-\gamma) \|x^*\|^2 (eq 8). All float64.
The curve over m is :func:`untrained_cs.experiments.theorem1.data`.
"""

from __future__ import annotations

import torch

from ..seeding import rng
from .basis import trig_basis


def geometric_spectrum(n: int, gamma: float) -> torch.Tensor:
    r"""\sigma_i = \gamma^{i/2}, i = 1..n (so \sigma_i^2 = \gamma^i), float64."""
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must lie in (0, 1), got {gamma}")
    return gamma ** (torch.arange(1, n + 1, dtype=torch.float64) / 2)


def spectral_generator_matrix(
    sigma: torch.Tensor, wide: int, seed: int = 0, left: torch.Tensor | None = None
) -> torch.Tensor:
    r"""J = W diag(\sigma) V^T, ``[n, wide]``: W the trigonometric basis (or ``left``), V a
    random ``[wide, n]`` matrix with orthonormal columns (seeded).
    """
    n = sigma.numel()
    if wide < n:
        raise ValueError(f"J must be wide: need wide >= n = {n}, got {wide}")
    w = trig_basis(n) if left is None else left.to(torch.float64)
    if tuple(w.shape) != (n, n):
        raise ValueError(f"left singular vectors must be [{n}, {n}], got {tuple(w.shape)}")
    gauss = torch.randn(wide, n, generator=rng(seed), dtype=torch.float64)
    v, _ = torch.linalg.qr(gauss)
    return (w * sigma) @ v.T


def min_norm_estimate(a: torch.Tensor, jmat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""\hat x = J (AJ)^+ y for ``a`` [m, n] (or [B, m, n]) and y [m] (or [B, m])."""
    aj = a.to(torch.float64) @ jmat.to(torch.float64)
    c = torch.linalg.pinv(aj) @ y.to(torch.float64).unsqueeze(-1)
    return (jmat.to(torch.float64) @ c).squeeze(-1)


def theorem1_bound(x: torch.Tensor, sigma: torch.Tensor, w: torch.Tensor, m: int) -> float:
    r"""Right-hand side of eq (7) without C: (\sum_i \langle w_i,x\rangle^2/\sigma_i^2)
    \sum_{i>2m/3}\sigma_i^2, with \sigma descending and w the matching columns.
    """
    coef = w.T.to(torch.float64) @ x.to(torch.float64)
    head = float((coef.square() / sigma.square()).sum())
    tail = float(sigma[(2 * m) // 3 :].square().sum())
    return head * tail


def signal_in_span(w: torch.Tensor, p: int, seed: int) -> torch.Tensor:
    """A unit-norm signal with iid N(0, 1) coefficients on the first p columns of ``w``."""
    coeffs = torch.randn(p, generator=rng(seed), dtype=torch.float64)
    x = w[:, :p].to(torch.float64) @ coeffs
    return x / x.norm()
