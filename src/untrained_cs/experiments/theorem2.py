"""Theorems 2 and 3 (Section 4): ReLU(UC)v fitted by gradient descent, error against eq (13)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..theory.two_layer_theorem import theorem2_curve


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
    """The curve of :func:`~untrained_cs.theory.two_layer_theorem.theorem2_curve` (error,
    ``bound13``, ``ratio`` over m, with the settings)."""
    return theorem2_curve(n, channels, width, kernel, p, list(ms), xi, trials, seed, max_iters)
