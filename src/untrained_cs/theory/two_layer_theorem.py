r"""Theorems 2/3 (Section 4): the two-layer generator ReLU(UC)v fitted by gradient descent.

For y = A x^* and plain gradient descent from C_0 iid N(0, \omega^2),
\omega = \xi\|y\|/(2\sqrt n\|U\|), with step \eta = m/(4n\|U\|^2),

    \|G(C_\infty) - x^*\|^2 \le C\Big(\sum_i \langle w_i,x^*\rangle^2/\sigma_i^2\Big)
    \sum_{i>2m/3}\sigma_i^2 + \xi^2\|x^*\|^2 \qquad (13)

with \sigma the kernel weights of eq (11) (descending) and w_i the matching trigonometric
functions. The curve over m is :func:`untrained_cs.experiments.theorem2.data`.
"""

from __future__ import annotations

import torch

from .linear_theorem import theorem1_bound
from .weights import sorted_weights


def theorem3_step(m: int, n: int, u_norm: float) -> float:
    r"""Theorem 3's step \eta = m / (4 n \|U\|^2)."""
    return m / (4.0 * n * u_norm**2)


def theorem2_bound(x: torch.Tensor, u: torch.Tensor, m: int, xi: float) -> float:
    r"""Right-hand side of eq (13) without C for the kernel u: Theorem 1's bound with the
    kernel weights of eq (11), plus \xi^2\|x^*\|^2."""
    sigma, w = sorted_weights(u)
    return theorem1_bound(x, sigma, w, m) + xi**2 * float(x.double().square().sum())
