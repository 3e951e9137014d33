r"""Section 7 / Theorem 4: gradient descent on a nonlinear least-squares problem stays close
to its linearisation.

For f(θ) = A G(θ), residual r_t = f(θ_t) − y and gradient descent θ_{t+1} = θ_t − η J(θ_t)^T
r_t, the linearised problem (eq 25) with a reference Jacobian J runs

    \tilde r_{t+1} = (I − η J J^T) \tilde r_t,\qquad \tilde r_0 = r_0    (eqs 26, 32, 39)

Theorem 4 (Appendix C): if √2 α ≤ σ_min(J), ‖J(θ)‖ ≤ β for all θ, ‖J(θ_0) − J‖ ≤ ε_0,
‖J(θ) − J(θ_0)‖ ≤ ε/2 in the ball B_R(θ_0), 2β(ε_0 + ε) ≤ α² and η ≤ 1/β², with

    R/2 = ‖J^† r_0‖ + 2.5 β²/α⁴ (ε_0 + ε) ‖r_0‖    (33)

then for all t: ‖r_t‖ ≤ (1 − ηα²)^t ‖r_0‖ (34); ‖r_t − \tilde r_t‖ ≤ 2βη(ε_0+ε)(1 − ηα²)^{t−1} t
‖r_0‖ (35) ≤ 2β(ε_0+ε)/(e ln2 α²) ‖r_0‖ (36); ‖θ_t − \tilde θ_t‖ ≤ 2.5 β²/α⁴ (ε_0+ε)‖r_0‖ (37);
‖θ_t − θ_0‖ ≤ R/2 (38).

For the two-layer generator G(C) = ReLU(UC)v (eq 20), with S = 1{UC > 0} the activation
pattern, J_G(C) J_G(C)^T = (U U^T) ∘ (S diag(v²) S^T): the Gram matrices and the Jacobian's
changes are n × n, never n × nk. Appendix D's constants for that generator are
:func:`appendix_d_constants`. Everything here is numpy float64; C is n × k (columns c_l).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def two_layer_output(U: np.ndarray, C: np.ndarray, v: np.ndarray) -> np.ndarray:
    """G(C) = ReLU(U C) v, length n."""
    return np.maximum(U @ C, 0.0) @ v


def two_layer_pullback(U: np.ndarray, S: np.ndarray, v: np.ndarray, g: np.ndarray) -> np.ndarray:
    r"""J_G(C)^T g as an n × k matrix for the activation pattern S = 1{UC > 0}: column l is
    v_l U^T diag(s_l) g (eq 20)."""
    return U.T @ (S * g[:, None] * v[None, :])


def two_layer_push(U: np.ndarray, S: np.ndarray, v: np.ndarray, D: np.ndarray) -> np.ndarray:
    """J_G(C) D for a direction D (n × k) at the activation pattern S: Σ_l v_l s_l ∘ (U d_l)."""
    return (S * (U @ D)) @ v


def two_layer_gram(U: np.ndarray, S: np.ndarray, v: np.ndarray) -> np.ndarray:
    r"""J_G J_G^T = (U U^T) ∘ (S diag(v²) S^T), n × n; with S the difference of two
    activation patterns it is (J_G(C) − J_G(C_0))(J_G(C) − J_G(C_0))^T."""
    return (U @ U.T) * ((S * v[None, :] ** 2) @ S.T)


def spectral_norm_sketched(A: np.ndarray, gram: np.ndarray) -> float:
    """‖A J‖ from the Gram matrix J J^T (n × n): the root of λ_max(A (J J^T) A^T)."""
    return math.sqrt(max(float(np.linalg.eigvalsh(A @ gram @ A.T)[-1]), 0.0))


def linearised_residuals(gram: np.ndarray, r0: np.ndarray, eta: float, steps: int) -> np.ndarray:
    r"""\tilde r_t = (I − η K)^t r_0 for t = 0..steps (eq 39), K = J J^T (m × m), ``[steps+1, m]``.

    Computed by the recursion itself (not the eigen-form), so that it can be checked against
    gradient descent on a model that is linear, where the two coincide exactly.
    """
    out = np.empty((steps + 1, r0.size))
    r = r0.astype(np.float64).copy()
    out[0] = r
    for t in range(steps):
        r = r - eta * (gram @ r)
        out[t + 1] = r
    return out


def pinv_norm(gram: np.ndarray, r0: np.ndarray) -> float:
    r"""‖J^† r_0‖ from K = J J^T alone: J^† r_0 = J^T K^{-1} r_0, whose norm² is r_0^T K^{-1} r_0
    (J of full row rank)."""
    return math.sqrt(max(float(r0 @ np.linalg.solve(gram, r0)), 0.0))


def theorem4_bounds(
    alpha: float, beta: float, eps0: float, eps: float, eta: float, r0_norm: float,
    pinv: float, steps: int,
) -> dict[str, Any]:  # fmt: skip
    """Theorem 4's right-hand sides for the constants given: (34) and (35) per t = 0..steps,
    (36), (37) and R/2 (33), and whether its hypotheses on the constants hold."""
    t = np.arange(steps + 1, dtype=np.float64)
    rate = 1.0 - eta * alpha**2
    e = eps0 + eps
    b35 = 2 * beta * eta * e * np.power(rate, np.maximum(t - 1, 0)) * t * r0_norm
    return {
        "rate34": rate,
        "bound34": (np.power(rate, t) * r0_norm).tolist(),
        "bound35": b35.tolist(),
        "bound36": 2 * beta * e / (math.e * math.log(2) * alpha**2) * r0_norm,
        "bound37": 2.5 * beta**2 / alpha**4 * e * r0_norm,
        "half_radius": pinv + 2.5 * beta**2 / alpha**4 * e * r0_norm,
        "closeness_condition": 2 * beta * e / alpha**2,  # the hypothesis asks <= 1
        "step_condition": eta * beta**2,  # the hypothesis asks <= 1
    }


def appendix_d_constants(
    n: int, m: int, k: int, u_norm: float, sigma_min: float, xi: float, delta: float
) -> dict[str, float]:
    r"""The constants Appendix D applies Theorem 4 with, for ReLU(UC)v and Gaussian A:
    α = σ_n(Σ(U))^{1/2}·√(n/m)/(3√2) (``sigma_min`` is σ_n, the root of Σ(U)'s smallest
    eigenvalue), β = 2√(n/m)‖U‖, ε_0 = 2β (log(2n/δ)/k)^{1/4}, ε = ξ α⁴/(16 β³)."""
    root = math.sqrt(n / m)
    alpha = root * sigma_min / (3 * math.sqrt(2))
    beta = 2 * root * u_norm
    eps0 = 2 * beta * (math.log(2 * n / delta) / k) ** 0.25
    eps = xi * alpha**4 / (16 * beta**3)
    return {"alpha": alpha, "beta": beta, "eps0": eps0, "eps": eps,
            "closeness_condition": 2 * beta * (eps0 + eps) / alpha**2}  # fmt: skip


def geometric_rate(values: np.ndarray, floor: float = 1e-12) -> dict[str, float]:
    """Least-squares fit of log values = a + t log q over the t where values/values[0] is
    above ``floor``: the rate q, R² and the decades covered."""
    v = np.asarray(values, dtype=np.float64)
    keep = np.flatnonzero(v > floor * v[0])
    if keep.size < 3:
        return {"rate": float("nan"), "r2": float("nan"), "decades": 0.0}
    t, logv = keep.astype(np.float64), np.log(v[keep])
    slope, icpt = np.polyfit(t, logv, 1)
    resid = logv - (icpt + slope * t)
    total = float(((logv - logv.mean()) ** 2).sum())
    r2 = 1.0 - float((resid**2).sum()) / total if total > 0 else float("nan")
    return {"rate": float(math.exp(slope)), "r2": r2,
            "decades": float(np.log10(v[keep[0]] / v[keep[-1]]))}  # fmt: skip
