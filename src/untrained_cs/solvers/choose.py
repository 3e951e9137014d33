"""Choosing the regularisation weight λ from a grid: oracle, discrepancy, hold-out.

One weight serves the whole batch (B problems of one kind). ``oracle`` needs the ground
truth (it is labelled as such in every result); ``discrepancy`` (Morozov's principle) needs
the noise level; ``holdout`` needs neither: it fits on a seeded random part of the
measurements and scores the fit on the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from ..defaults import HOLDOUT_FRACTION
from ..operators.base import LinearMap, Operator
from ..operators.noise import holdout_split, measured_entries, real_dof, variance_per_dof
from .norms import member_norm

WEIGHT_CHOICES = ("oracle", "discrepancy", "holdout")
#: discrepancy: accept λ while ½||Ax − y||² <= ½ m σ² × this.
DISCREPANCY_SAFETY = 1.05
#: hold-out: the seed that draws the held-out entries (their share: HOLDOUT_FRACTION).
HOLDOUT_SEED = 0

#: solve(operator, y, λ) -> x
Solve = Callable[[LinearMap, torch.Tensor, float], torch.Tensor]
#: score(x) -> (psnr, ssim) of the estimate's image
Score = Callable[[torch.Tensor], tuple[float, float]]


@dataclass
class Choice:
    """The chosen weight, the estimate solved with it, and its score when one was computed."""

    weight: float
    x: torch.Tensor
    psnr: float | None = None
    ssim: float | None = None


class RowSubset(Operator):
    """The rows of ``op`` a 0/1 ``keep`` mask ``[*out_shape]`` selects (others read zero)."""

    keep: torch.Tensor

    def __init__(self, op: LinearMap, keep: torch.Tensor) -> None:
        super().__init__(tuple(op.in_shape), tuple(op.out_shape), int(getattr(op, "count", 1)))
        self.inner = op
        self.complex_output = bool(getattr(op, "complex_output", False))
        self.register_buffer("keep", keep.to(torch.float32))

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        ax = self.inner(x)
        return ax * self.keep.to(ax.real.dtype)

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        return self.inner.adjoint(y * self.keep.to(y.real.dtype))


def residual(op: LinearMap, x: torch.Tensor, y: torch.Tensor) -> float:
    """½||A x − y||² summed over the batch."""
    return float(0.5 * member_norm(op(x) - y).square().sum())


def measurement_dof(op: LinearMap, batch: int) -> int:
    """Real degrees of freedom of a batch of measurements: entries A can make nonzero
    (structurally zero ones, like unsampled k-space, do not count; complex count twice)."""
    measured = measured_entries(op)
    per_draw = real_dof(measured, bool(getattr(op, "complex_output", False)))
    return int(round(float(per_draw.mean()) * batch))


def choose_oracle(
    solve: Solve, op: LinearMap, y: torch.Tensor, grid: Sequence[float], score: Score
) -> Choice:
    """The weight of best PSNR against the ground truth (``score`` knows the truth)."""
    best: Choice | None = None
    for lam in grid:
        x = solve(op, y, lam)
        ps, ss = score(x)
        if best is None or ps > (best.psnr if best.psnr is not None else -math.inf):
            best = Choice(lam, x, ps, ss)
    assert best is not None
    return best


def choose_discrepancy(
    solve: Solve,
    op: LinearMap,
    y: torch.Tensor,
    grid: Sequence[float],
    noise_std: float,
    safety: float = DISCREPANCY_SAFETY,
) -> Choice:
    """The largest weight whose residual ½||Ax − y||² stays within ½ m σ_r² × ``safety``.

    m counts real degrees of freedom (:func:`measurement_dof`) and σ_r is the noise std
    per real degree of freedom.

    Args:
        solve, op, y, grid: the solver, problem and candidate weights.
        noise_std: σ with E|n|² = σ² per measurement entry, the convention of
            :mod:`untrained_cs.operators.noise` (σ/√2 per real part of a complex entry);
            safety: slack over the expected noise.

    Returns:
        the :class:`Choice`; the smallest weight when none is within the bound.
    """
    per_dof = variance_per_dof(noise_std, y.is_complex())
    target = 0.5 * measurement_dof(op, y.shape[0]) * per_dof * safety
    x = None
    for lam in sorted(grid, reverse=True):
        x = solve(op, y, lam)
        if residual(op, x, y) <= target:
            return Choice(lam, x)
    assert x is not None
    return Choice(min(grid), x)


def holdout_mask(op: LinearMap, fraction: float, seed: int) -> torch.Tensor:
    """A 0/1 keep mask ``[*out_shape]`` with a seeded ``fraction`` of the measured entries
    (those A can make nonzero) held out as zero."""
    measured = measured_entries(op)[:1]
    return (~holdout_split(measured, fraction, seed)[0]).to(torch.float32)


def choose_holdout(
    solve: Solve,
    op: LinearMap,
    y: torch.Tensor,
    grid: Sequence[float],
    fraction: float = HOLDOUT_FRACTION,
    seed: int = HOLDOUT_SEED,
) -> Choice:
    """The weight whose fit on the kept entries predicts the held-out ones best, re-solved.

    Args:
        solve, op, y, grid: the solver, problem and candidate weights.
        fraction: share of measurement entries held out; seed: draws them.

    Returns:
        the :class:`Choice`, its estimate solved again on all measurements.
    """
    keep = holdout_mask(op, fraction, seed).to(y.device)
    train = RowSubset(op, keep)
    held = RowSubset(op, 1.0 - keep)
    scores = []
    for lam in grid:
        x = solve(train, y * keep.to(y.real.dtype), lam)
        scores.append(residual(held, x, y * held.keep.to(y.real.dtype)))
    best = grid[min(range(len(grid)), key=scores.__getitem__)]
    return Choice(best, solve(op, y, best))
