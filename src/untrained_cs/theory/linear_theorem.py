r"""Theorem 1 (Section 3): compressive sensing with a linear generator x = J c.

With y = A x^*, the minimum-norm coefficients \hat c = (AJ)^+ y (which gradient descent
from c = 0 reaches) give \hat x = J \hat c with

    \|\hat x - x^*\|^2 \le C \Big(\sum_i \langle w_i, x^*\rangle^2/\sigma_i^2\Big)
    \sum_{i > 2m/3} \sigma_i^2 \qquad (7)

(w_i, \sigma_i the left singular vectors/values of J). For \sigma_i^2 = \gamma^i and x^* in
the span of w_1..w_{m/3} this is C \gamma^{m/3}/(1-\gamma) \|x^*\|^2 (eq 8). All float64.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..problems.seeds import derive_seed
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


def gd_estimate(jmat: torch.Tensor, a: torch.Tensor, y: torch.Tensor, iters: int) -> torch.Tensor:
    r"""\hat x_T = J c_T after T steps of gradient descent on c from c_0 = 0.

    The fit engine's plain GD on the linear generator Jc (:class:`LinearGenerator`) with
    the constant step \eta_b = 1/\|A_b J\|^2 per member (the gradient's Lipschitz
    constant); ``a`` is ``[B, m, n]``, ``y`` ``[B, m]``; returns ``[B, n]`` (float64).
    """
    from ..fit import fit
    from ..generators.linear import LinearGenerator
    from ..operators.matrix import MatrixOperator

    a64, j64 = a.to(torch.float64), jmat.to(torch.float64)
    n, batch = j64.shape[0], a64.shape[0]
    eta = 1.0 / torch.linalg.matrix_norm(a64 @ j64, 2).square()
    gen = LinearGenerator(j64, (1, n), batch=batch)
    result = fit(
        gen, MatrixOperator(a64, (1, n)), y.to(torch.float64), optimizer="gd", lr=eta,
        device="cpu", max_iters=iters, tol=1e-300, loss_floor=1e-300, blowup=math.inf,
    )  # fmt: skip
    return result.estimate.reshape(batch, n)


def theorem1_curve(
    n: int = 128,
    wide: int = 512,
    gamma: float = 0.9,
    ms: Sequence[int] = (12, 24, 36, 48, 60, 72, 84, 96),
    trials: int = 5,
    seed: int = 0,
    gd_iters: int = 2000,
) -> dict:
    r"""Measured error vs eq (7)/(8) over m, for x^* in the span of w_1..w_{m/3}.

    Args:
        n, wide: J is ``[n, wide]`` with \sigma_i^2 = \gamma^i and the trig basis as W.
        gamma: the decay rate.
        ms: measurement counts (each 3 <= m <= n).
        trials: independent (A, x^*) draws per m; medians are reported.
        seed: root seed: J and draw t of m take their seeds from
            :func:`~untrained_cs.problems.seeds.derive_seed` (purposes generator, operator
            and signal; index ``1000 m + t``).
        gd_iters: gradient-descent iterations from 0 (0 skips the GD comparison).

    Returns:
        dict of lists over m: ``error`` (median ‖x̂−x*‖²), ``bound7``, ``bound8``
        (γ^{m/3}/(1−γ)), ``ratio`` (median error/bound7), ``gd_gap`` (median
        ‖x̂_GD − x̂‖/‖x̂‖ after ``gd_iters``), plus the settings and the fitted per-m
        factor of the error (``error_rate_per_m``) beside eq (8)'s γ^{1/3}.
    """
    sigma = geometric_spectrum(n, gamma)
    w = trig_basis(n)
    jmat = spectral_generator_matrix(sigma, wide, derive_seed(seed, "generator"))
    rows: dict[str, list] = {k: [] for k in ("m", "error", "bound7", "bound8", "ratio", "gd_gap")}
    for m in ms:
        if not 3 <= m <= n:
            raise ValueError(f"each m must satisfy 3 <= m <= n = {n}, got {m}")
        draws = [1000 * m + t for t in range(trials)]
        a = torch.stack(
            [
                torch.randn(m, n, generator=rng(derive_seed(seed, "operator", d)),
                            dtype=torch.float64)
                for d in draws
            ]
        ) / math.sqrt(m)  # fmt: skip
        x = torch.stack(
            [signal_in_span(w, max(1, m // 3), derive_seed(seed, "signal", d)) for d in draws]
        )
        y = (a @ x.unsqueeze(-1)).squeeze(-1)
        xhat = min_norm_estimate(a, jmat, y)
        err = (xhat - x).square().sum(-1).numpy()
        bound = np.array([theorem1_bound(xi, sigma, w, m) for xi in x])
        rows["m"].append(int(m))
        rows["error"].append(float(np.median(err)))
        rows["bound7"].append(float(np.median(bound)))
        rows["bound8"].append(gamma ** (m / 3) / (1 - gamma))
        rows["ratio"].append(float(np.median(err / bound)))
        if gd_iters > 0:
            xgd = gd_estimate(jmat, a, y, gd_iters)
            gap = (xgd - xhat).norm(dim=-1) / xhat.norm(dim=-1)
            rows["gd_gap"].append(float(gap.median()))
    slope = np.polyfit(rows["m"], np.log(rows["error"]), 1)[0] if len(ms) > 1 else float("nan")
    return {
        "n": n, "wide": wide, "gamma": gamma, "trials": trials, "gd_iters": gd_iters,
        "error_rate_per_m": float(np.exp(slope)), "bound8_rate_per_m": gamma ** (1 / 3), **rows,
    }  # fmt: skip
