"""Theorem 1 (Section 3): a linear generator's error against the bounds (7) and (8) over m."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..theory.linear_theorem import theorem1_curve


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
