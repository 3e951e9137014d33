r"""Theorem 1 (Section 3): a linear generator's error against the bounds (7) and (8) over m.

J = W diag(\sigma) V^T with \sigma_i^2 = \gamma^i and W the trigonometric basis; for each m,
Gaussian A and x^* in the span of w_1..w_{m/3}, the minimum-norm estimate J (AJ)^+ y is
compared with eq (7)'s right-hand side (without C) and eq (8)'s \gamma^{m/3}/(1-\gamma), and
plain gradient descent from c = 0 (the fit engine) with the min-norm solution.

One setting: the paper's text and the authors' code do not differ here, as there is no
code. Section 3 gives the theorem (m >= 12) and its example (σ_i² = γ^i, γ "slightly below
one", x^* in the span of w_1..w_{m/3}) and no sizes; MLI-lab/cs_deep_decoder holds code for
Figures 1 and 5 only, and MLI-lab/overparameterized_convolutional_generators's linear
least-squares notebook is that paper's denoising warm-up, not this compressive-sensing
bound. ``reproduce --setting`` leaves this experiment as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..fit import fit
from ..generators.linear import LinearGenerator
from ..operators.matrix import MatrixOperator
from ..problems.seeds import derive_seed
from ..seeding import rng
from ..theory.basis import trig_basis
from ..theory.linear_theorem import (
    geometric_spectrum,
    min_norm_estimate,
    signal_in_span,
    spectral_generator_matrix,
    theorem1_bound,
)
from .claims import Claim, check
from .experiment import Experiment, Tool, check_fields, setting

TITLE = "Theorem 1: a linear generator's error against eqs (7) and (8)"
#: Section 3's example: σ_i² = γ^i of J, "γ slightly below one", x* in the span of the
#: leading m/3 left singular vectors; the sizes are this project's choices
SECTION3 = "Section 3's example"
#: GD from 0 "converges to the min-norm solution" when its relative gap is below this
GD_GAP = 1e-2


@dataclass(frozen=True)
class Theorem1Settings:
    """Settings of the Theorem 1 curve (`untrained-cs theory linear`, `reproduce thm1`)."""

    n: int = setting(128, "signal length (rows of J)", low=1)
    wide: int = setting(512, "columns of J (>= n: a wide, over-parameterised generator)", low=1)
    gamma: float = setting(0.9, "σ_i² = γ^i, γ in (0, 1)", f"{SECTION3}: 'γ slightly below one'",
                           low=0.0, high=1.0, open_low=True)  # fmt: skip
    ms: tuple[int, ...] = setting(tuple(range(12, 97, 12)), "measurement counts m (each in "
                                  "[3, n])", flag="--m", low=1)  # fmt: skip
    trials: int = setting(5, "Gaussian A drawn per m (medians reported)", low=1)
    gd_iters: int = setting(2000, "gradient-descent steps from c = 0, checked against the "
                            "min-norm solution (0: skip)", low=0)  # fmt: skip

    def __post_init__(self) -> None:
        check_fields(self)
        if not 0 < self.gamma < 1:
            raise ValueError(f"gamma must lie in (0, 1), got {self.gamma}")
        if self.wide < self.n:
            raise ValueError(f"wide must be >= n = {self.n}, got {self.wide}")
        bad = [m for m in self.ms if not 3 <= m <= self.n]
        if bad:
            raise ValueError(f"each m must lie in [3, n = {self.n}], got {bad}")


def gd_estimate(jmat: torch.Tensor, a: torch.Tensor, y: torch.Tensor, iters: int) -> torch.Tensor:
    r"""\hat x_T = J c_T after T steps of gradient descent on c from c_0 = 0.

    The fit engine's plain GD on the linear generator Jc (:class:`LinearGenerator`) with
    the constant step \eta_b = 1/\|A_b J\|^2 per member (the gradient's Lipschitz
    constant); ``a`` is ``[B, m, n]``, ``y`` ``[B, m]``; returns ``[B, n]`` (float64).
    """
    a64, j64 = a.to(torch.float64), jmat.to(torch.float64)
    n, batch = j64.shape[0], a64.shape[0]
    eta = 1.0 / torch.linalg.matrix_norm(a64 @ j64, 2).square()
    gen = LinearGenerator(j64, (1, n), batch=batch)
    result = fit(
        gen, MatrixOperator(a64, (1, n)), y.to(torch.float64), optimizer="gd", lr=eta,
        device="cpu", max_iters=iters, tol=1e-300, loss_floor=1e-300, blowup=math.inf,
    )  # fmt: skip
    return result.estimate.reshape(batch, n)


def data(settings: Theorem1Settings, seed: int = 0) -> dict[str, Any]:
    r"""Measured error vs eq (7)/(8) over m, for x^* in the span of w_1..w_{m/3}.

    J and draw t of m take their seeds from :func:`~untrained_cs.problems.seeds.derive_seed`
    (purposes generator, operator and signal; index ``1000 m + t``) under ``seed``.

    Returns:
        dict of lists over m: ``error`` (median ‖x̂−x*‖²), ``bound7``, ``bound8``
        (γ^{m/3}/(1−γ)), ``ratio`` (median error/bound7), ``gd_gap`` (median
        ‖x̂_GD − x̂‖/‖x̂‖ after ``gd_iters``), plus the settings and the fitted per-m
        factor of the error (``error_rate_per_m``) beside eq (8)'s γ^{1/3}.
    """
    s = settings
    sigma = geometric_spectrum(s.n, s.gamma)
    w = trig_basis(s.n)
    jmat = spectral_generator_matrix(sigma, s.wide, derive_seed(seed, "generator"))
    rows: dict[str, list] = {k: [] for k in ("m", "error", "bound7", "bound8", "ratio", "gd_gap")}
    for m in s.ms:
        a, x = _draws(s, m, w, seed)
        y = (a @ x.unsqueeze(-1)).squeeze(-1)
        xhat = min_norm_estimate(a, jmat, y)
        err = (xhat - x).square().sum(-1).numpy()
        bound = np.array([theorem1_bound(xi, sigma, w, m) for xi in x])
        rows["m"].append(int(m))
        rows["error"].append(float(np.median(err)))
        rows["bound7"].append(float(np.median(bound)))
        rows["bound8"].append(s.gamma ** (m / 3) / (1 - s.gamma))
        rows["ratio"].append(float(np.median(err / bound)))
        if s.gd_iters > 0:
            xgd = gd_estimate(jmat, a, y, s.gd_iters)
            gap = (xgd - xhat).norm(dim=-1) / xhat.norm(dim=-1)
            rows["gd_gap"].append(float(gap.median()))
    ms = rows["m"]
    slope = np.polyfit(ms, np.log(rows["error"]), 1)[0] if len(ms) > 1 else float("nan")
    return {
        "n": s.n, "wide": s.wide, "gamma": s.gamma, "trials": s.trials, "gd_iters": s.gd_iters,
        "error_rate_per_m": float(np.exp(slope)), "bound8_rate_per_m": s.gamma ** (1 / 3),
        **rows,
    }  # fmt: skip


def _draws(
    s: Theorem1Settings, m: int, w: torch.Tensor, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``trials`` Gaussian A ``[T, m, n]`` (iid N(0, 1/m)) and unit x* ``[T, n]`` of m."""
    draws = [1000 * m + t for t in range(s.trials)]
    a = torch.stack(
        [
            torch.randn(m, s.n, generator=rng(derive_seed(seed, "operator", d)),
                        dtype=torch.float64)
            for d in draws
        ]
    ) / math.sqrt(m)  # fmt: skip
    x = torch.stack(
        [signal_in_span(w, max(1, m // 3), derive_seed(seed, "signal", d)) for d in draws]
    )
    return a, x


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    """The curve's picture in ``folder``."""
    draw(folder / "thm1.png", data)
    return ["thm1.png"]


def draw(path: Path, data: dict[str, Any]) -> None:
    """Error and bounds over m (:func:`untrained_cs.plots.theory.theorem1`)."""
    from ..plots.theory import theorem1

    theorem1(path, data)


def claims(data: dict[str, Any]) -> list[Claim]:
    """The bound (7), the rate (8) and GD reaching the min-norm solution."""
    ratio = max(data["ratio"])
    rate, bound_rate = data["error_rate_per_m"], data["bound8_rate_per_m"]
    rows = [
        check(
            "Theorem 1: ‖J ĉ − x*‖² ≤ C · (7) with high probability",
            ratio,
            ratio <= 1,
            f"largest median error / (7) over m = {ratio:.3g}: C = 1 suffices when <= 1",
        ),  # fmt: skip
        check(
            "eq (8): for σ_i² = γ^i and x* in the span of w_1..w_{m/3} the error decays like "
            "γ^{m/3}",
            rate,
            rate <= bound_rate,
            f"fitted error factor per extra measurement {rate:.4f} against γ^(1/3) = "
            f"{bound_rate:.4f}",
        ),  # fmt: skip
    ]
    if data["gd_gap"]:
        gap = max(data["gd_gap"])
        rows.append(check(
            "gradient descent from c = 0 converges to the min-norm solution", gap, gap < GD_GAP,
            f"largest ‖ĉ_GD − ĉ‖/‖ĉ‖ after {data['gd_iters']} steps = {gap:.2g} (holds below "
            f"{GD_GAP:g})"))  # fmt: skip
    return rows


def summary(settings: Theorem1Settings, data: dict[str, Any]) -> str:
    """The tool's one line."""
    ratios = ", ".join(f"{r:.2g}" for r in data["ratio"])
    return f"linear γ={settings.gamma}: measured/bound(7) over m {list(settings.ms)}: {ratios}"


def memory(settings: Theorem1Settings) -> dict[str, int]:
    """J and its products, and the trials' Gaussian A (dense float64)."""
    s = settings
    return {"J": 3 * 8 * s.n * s.wide, "A": 8 * s.trials * max(s.ms) * s.n}


TOOL = Tool(
    help="Theorem 1: linear generator, error vs bound over m",
    settings_type=Theorem1Settings, data=data, plot=draw, summary=summary, memory=memory,
)  # fmt: skip
SETTINGS = {
    "smoke": Theorem1Settings(n=32, wide=64, ms=(6, 12, 18, 24), trials=2, gd_iters=200),
    "cpu": Theorem1Settings(),
    # the paper states the theorem without sizes: its "scale" is this project's defaults
    "paper": Theorem1Settings(),
}
EXPERIMENT = Experiment(TITLE, Theorem1Settings, SETTINGS, data, plot, claims, tool=TOOL)
