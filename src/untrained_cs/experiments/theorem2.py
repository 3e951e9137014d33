"""Theorems 2 and 3 (Section 4): ReLU(UC)v fitted by gradient descent, error against eq (13)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..generators.kernels import circulant_norm, make_kernel
from ..generators.two_layer import TwoLayerGenerator
from ..methods import GeneratorFit
from ..pipeline import Record, run_batch
from ..problems import CSMeasurement, Problem, ProblemSpec, SmoothSignal, build
from ..problems.seeds import derive_seed, member_seeds
from ..theory.two_layer_theorem import theorem2_bound, theorem3_step
from .claims import Claim, check


@dataclass(frozen=True)
class Theorem2Defaults:
    """Settings of the Theorem 2/3 curve (`untrained-cs theory two-layer`).

    The paper states the theorems without numbers (k >= C_u m / ξ⁸ channels, any ξ <= 1);
    the sizes are this project's choices, small enough for plain GD with Theorem 3's step.
    """

    #: signal length
    n: int = 64
    #: channels k (over-parameterised: k >> m)
    channels: int = 256
    #: Section 4: "the triangular kernel that is used in the original deep decoder network"
    kernel: str = "triangular"
    width: float = 4.0
    #: smoothness of x* (random coefficients on the p lowest frequencies)
    p: int = 5
    #: measurement counts m
    ms: tuple[int, ...] = (4, 8, 12, 16, 24, 32, 48)
    #: Theorem 2's ξ (init scale ω = ξ‖y‖/(2√n‖U‖); eq (13) adds ξ²‖x*‖²)
    xi: float = 0.1
    #: independent (A, C_0) draws per m (one batched fit; medians reported)
    trials: int = 3
    #: gradient-descent iteration cap
    max_iters: int = 3000


DEFAULTS = Theorem2Defaults()


def theorem2_data(
    n: int = DEFAULTS.n,
    channels: int = DEFAULTS.channels,
    kernel: str = DEFAULTS.kernel,
    width: float = DEFAULTS.width,
    p: int = DEFAULTS.p,
    ms: Sequence[int] = DEFAULTS.ms,
    xi: float = DEFAULTS.xi,
    trials: int = DEFAULTS.trials,
    max_iters: int = DEFAULTS.max_iters,
    seed: int = 0,
) -> dict[str, Any]:
    r"""Measured \|G(C_\infty) - x^*\|^2 against eq (13) over m, for p-smooth unit x^*.

    Trial t is the problem spec ``ProblemSpec(SmoothSignal(n, p), CSMeasurement(m=m),
    derive_seed(seed, "trial", t))`` (so x* and the first rows of A are shared across m);
    the trials of one m are one batched fit (:func:`~untrained_cs.pipeline.run_batch`) of
    ReLU(UC)v by plain GD with Theorem 3's step and initialisation scale.

    Returns:
        dict of lists over m: ``error`` (median over trials), ``bound13`` (median, without
        C), ``ratio`` (median of error/bound), ``stop_reasons``; and the settings.
    """
    u = make_kernel(kernel, n, width)
    roots = [derive_seed(seed, "trial", t) for t in range(trials)]
    rows: dict[str, list] = {k: [] for k in ("m", "error", "bound13", "ratio", "stop_reasons")}
    for m in ms:
        if not 1 <= m <= n:
            raise ValueError(f"each m must satisfy 1 <= m <= n = {n}, got {m}")
        problems = [build(ProblemSpec(SmoothSignal(n, p), CSMeasurement(m=m), r)) for r in roots]
        records = _fit(problems, channels, (kernel, width), xi, max_iters)
        err = np.array([float((r.estimate - q.truth).double().square().sum())
                        for r, q in zip(records, problems, strict=True)])  # fmt: skip
        bound = np.array([theorem2_bound(q.truth[0], u, m, xi) for q in problems])
        rows["m"].append(int(m))
        rows["error"].append(float(np.median(err)))
        rows["bound13"].append(float(np.median(bound)))
        rows["ratio"].append(float(np.median(err / bound)))
        rows["stop_reasons"].append([r.metrics["stop_reason"] for r in records])
    return {
        "n": n, "channels": channels, "kernel": kernel, "width": width, "p": p, "xi": xi,
        "trials": trials, "max_iters": max_iters, "u_norm": circulant_norm(u), **rows,
    }  # fmt: skip


def _fit(
    problems: list[Problem], channels: int, kernel: tuple[str, float], xi: float, max_iters: int
) -> list[Record]:
    """One batched GD fit of ReLU(UC)v (Theorem 3's step and init scale ξ) over the trials."""
    n, m = problems[0].n, problems[0].m
    seeds = [member_seeds(q.spec.seed, 1)[0] for q in problems]
    gen = TwoLayerGenerator((1, n), channels=channels, kernel=kernel, seed=seeds, theorem3_xi=xi)
    method = GeneratorFit(
        "two-layer", channels, optimizer="gd", lr=theorem3_step(m, n, gen.u_norm),
        max_iters=max_iters, tol=1e-6, loss_floor=1e-10, stop="converge",
    )  # fmt: skip
    return run_batch(problems, method, generator=gen, device="cpu")


# --- `untrained-cs reproduce thm2` (see :mod:`.claims`) ---------------------------------

TITLE = "Theorems 2 and 3: ReLU(UC)v fitted by gradient descent against eq (13)"
SETTINGS = {
    "smoke": replace(DEFAULTS, n=32, channels=64, ms=(4, 8, 16), trials=2, max_iters=200),
    # Theorem 3's small step needs many iterations: a cap that lets most fits converge
    "cpu": replace(DEFAULTS, max_iters=20000),
    # the paper states the theorems without sizes: its "scale" is this project's defaults
    "paper": DEFAULTS,
}


def data(settings: Theorem2Defaults, seed: int = 0) -> dict[str, Any]:
    return theorem2_data(settings.n, settings.channels, settings.kernel, settings.width,
                         settings.p, settings.ms, settings.xi, settings.trials,
                         settings.max_iters, seed)  # fmt: skip


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    from ..plots.theory import theorem2

    theorem2(folder / "thm2.png", data)
    return ["thm2.png"]


def claims(data: dict[str, Any]) -> list[Claim]:
    ratio = max(data["ratio"])
    err = data["error"]
    reasons = [r for per_m in data["stop_reasons"] for r in per_m]
    capped = sum(r == "max_iters" for r in reasons)
    return [
        check(
            "Theorem 2: ‖G(C_∞) − x*‖² ≤ C · (13) (with ξ²‖x*‖² added)",
            ratio,
            ratio <= 1,
            f"largest median error / (13) over m = {ratio:.3g}: C = 1 suffices when <= 1",
        ),  # fmt: skip
        check(
            "the error of a p-smooth x* falls as m grows",
            err[-1] / err[0],
            all(a > b for a, b in zip(err, err[1:], strict=False)),
            f"median error {err[0]:.3g} at m = {data['m'][0]} to {err[-1]:.3g} at m = "
            f"{data['m'][-1]}, decreasing at every step: "
            f"{all(a > b for a, b in zip(err, err[1:], strict=False))}",
        ),  # fmt: skip
        check(
            "Theorem 3: gradient descent with its step converges",
            1 - capped / len(reasons),
            capped == 0,
            f"{capped} of {len(reasons)} fits reached the iteration cap "
            f"{data['max_iters']} before the convergence rule",
        ),  # fmt: skip
    ]
