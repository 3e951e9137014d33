"""Theorem 1 (Section 3): a linear generator's error against the bounds (7) and (8) over m."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..theory.linear_theorem import theorem1_curve
from .claims import Claim, check


@dataclass(frozen=True)
class Theorem1Defaults:
    """Settings of the Theorem 1 curve (`untrained-cs theory linear`).

    Section 3's example: singular values σ_i² = γ^i of J, "γ slightly below one", x* in the
    span of the leading m/3 left singular vectors. The sizes are this project's choices.
    """

    #: signal length (rows of J)
    n: int = 128
    #: columns of J (>= n: a wide, over-parameterised generator)
    wide: int = 512
    #: decay rate of σ_i² = γ^i (Section 3)
    gamma: float = 0.9
    #: measurement counts m
    ms: tuple[int, ...] = tuple(range(12, 97, 12))
    #: Gaussian A drawn per m (medians reported)
    trials: int = 5
    #: gradient-descent steps from c = 0, checked against the min-norm solution (0: skip)
    gd_iters: int = 2000


DEFAULTS = Theorem1Defaults()


def theorem1_data(
    n: int = DEFAULTS.n,
    wide: int = DEFAULTS.wide,
    gamma: float = DEFAULTS.gamma,
    ms: Sequence[int] = DEFAULTS.ms,
    trials: int = DEFAULTS.trials,
    gd_iters: int = DEFAULTS.gd_iters,
    seed: int = 0,
) -> dict[str, Any]:
    """The curve of :func:`~untrained_cs.theory.linear_theorem.theorem1_curve` (error,
    ``bound7``, ``bound8``, ``ratio`` over m); ``gd_iters`` <= 0 skips the GD check."""
    return theorem1_curve(n, wide, gamma, list(ms), trials, seed, max(0, gd_iters))


# --- `untrained-cs reproduce thm1` (see :mod:`.claims`) ---------------------------------

TITLE = "Theorem 1: a linear generator's error against eqs (7) and (8)"
SETTINGS = {
    "smoke": replace(DEFAULTS, n=32, wide=64, ms=(6, 12, 18, 24), trials=2, gd_iters=200),
    "cpu": DEFAULTS,
    # the paper states the theorem without sizes: its "scale" is this project's defaults
    "paper": DEFAULTS,
}
#: GD from 0 "converges to the min-norm solution" when its relative gap is below this
GD_GAP = 1e-2


def data(settings: Theorem1Defaults, seed: int = 0) -> dict[str, Any]:
    return theorem1_data(settings.n, settings.wide, settings.gamma, settings.ms,
                         settings.trials, settings.gd_iters, seed)  # fmt: skip


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    from ..plots.theory import theorem1

    theorem1(folder / "thm1.png", data)
    return ["thm1.png"]


def claims(data: dict[str, Any]) -> list[Claim]:
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
