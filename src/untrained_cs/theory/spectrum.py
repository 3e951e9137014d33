"""Comparing two singular-value spectra (Section 4.1: "the spectrum changes only slightly")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def relative_change(a: Sequence[float], b: Sequence[float], top: int) -> float:
    r"""\|a_{1:top} - b_{1:top}\| / \|a_{1:top}\| for two descending spectra.

    Args:
        a, b: the spectra (descending), e.g. of the first and the last snapshot.
        top: how many leading values are compared.

    Returns:
        The relative change of the leading ``top`` values (0: the same).
    """
    x = np.asarray(a[:top], dtype=np.float64)
    z = np.asarray(b[:top], dtype=np.float64)
    return float(np.linalg.norm(x - z) / np.linalg.norm(x))


#: σ_i²/σ_1² below this is the numerical floor: a decay fit stops there
DECAY_FLOOR = 1e-12


def decay_profile(sigma: Sequence[float], floor: float = DECAY_FLOOR) -> dict[str, float]:
    r"""How σ_i² falls over the whole range that decays: from i = 1 down to the last σ_i²
    above ``floor``·σ_1² (the numerical floor), fitted three ways on log σ_i².

    * geometric: log σ_i² = a + i log γ; ``rate`` γ and ``r2_geometric``;
    * power law: log σ_i² = a + b log i; ``r2_power``;
    * curvature: log σ_i² = a + b i + c i²; ``curvature`` c, its OLS standard error
      ``curvature_se`` and ``curvature_t`` = c / se. The quadratic nests the geometric line
      (c = 0), so "faster than geometric" is exactly c < 0 (log σ² concave) and one extra
      coefficient with a closed-form standard error tests it; a stretched exponential
      exp(−c i^β) would say the same through a nonlinear fit whose β is poorly determined
      on short ranges. The residuals of a smooth spectrum are correlated, so the t value
      overstates the significance: read it as a size, not a p-value.
    ``decades`` is log₁₀(σ_1²/σ_last²) over the range, ``count`` its length, and
    ``curvature_decades`` = −c L²/ln 10, the decades the curvature adds over the L values.
    """
    s2 = np.sort(np.asarray(sigma, dtype=np.float64) ** 2)[::-1]
    nan = float("nan")
    out = {"rate": nan, "r2_geometric": nan, "r2_power": nan, "curvature": nan,
           "curvature_se": nan, "curvature_t": nan, "curvature_decades": nan,
           "decades": 0.0, "count": 0}  # fmt: skip
    if s2.size == 0 or s2[0] <= 0:
        return out
    above = np.flatnonzero(s2 > floor * s2[0])
    last = int(above[-1]) + 1
    y = np.log(s2[:last])
    i = np.arange(1, last + 1, dtype=np.float64)
    out["decades"] = float((y[0] - y[-1]) / np.log(10))
    out["count"] = last
    if last < 4:
        return out
    out["rate"] = float(np.exp(np.polyfit(i, y, 1)[0]))
    out["r2_geometric"] = _r2(i, y, 1)
    out["r2_power"] = _r2(np.log(i), y, 1)
    design = np.stack([np.ones_like(i), i, i**2], axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    dof = max(last - 3, 1)
    cov = float(resid @ resid) / dof * np.linalg.pinv(design.T @ design)
    se = float(np.sqrt(max(cov[2, 2], 0.0)))
    out["curvature"] = float(coef[2])
    out["curvature_se"] = se
    out["curvature_t"] = float(coef[2] / se) if se > 0 else float("-inf") * np.sign(-coef[2])
    out["curvature_decades"] = float(-coef[2] * last**2 / np.log(10))
    return out


def _r2(x: np.ndarray, y: np.ndarray, degree: int) -> float:
    fit = np.polyval(np.polyfit(x, y, degree), x)
    total = float(np.square(y - y.mean()).sum())
    return float(1 - np.square(y - fit).sum() / total) if total > 0 else float("nan")


def largest_principal_angle(first: np.ndarray, second: np.ndarray) -> float:
    """The largest principal angle, in degrees, between the column spaces of two matrices
    with orthonormal columns (``[n, k]`` each): arccos of the smallest singular value of
    firstᵀ second. 0 when the subspaces coincide, 90 when one holds a direction orthogonal
    to the other."""
    a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"principal angles need equal shapes, got {a.shape} and {b.shape}")
    cosines = np.linalg.svd(a.T @ b, compute_uv=False)
    return float(np.degrees(np.arccos(np.clip(cosines.min(), -1.0, 1.0))))
