"""Cartesian undersampling masks as fastMRI defines them (columns of k-space).

Both kinds fully sample ``round(center_fraction * W)`` centre columns. ``random`` adds
columns chosen at random among the others; ``equispaced`` adds every ``a``-th column from a
random offset, with the spacing ``a`` adjusted so that the total hits the acceleration:
a = R (W - c) / (W - R c), c the number of centre columns, R the acceleration.

The random kind draws exactly ``round(W / R) - c`` extra columns (fastMRI draws each column
with probability (W/R - c)/(W - c); drawing the expected number exactly makes the achieved
acceleration reproducible and within rounding of the requested one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..problems.specs import MASK_KINDS
from ..seeding import rng

DEFAULT_CENTER = {4.0: 0.08, 8.0: 0.04}


def default_center_fraction(acceleration: float) -> float:
    """fastMRI's pairs: 4x → 0.08, 8x → 0.04; otherwise 0.32 / acceleration (same rule)."""
    return DEFAULT_CENTER.get(float(acceleration), 0.32 / float(acceleration))


@dataclass(frozen=True)
class CartesianMask:
    """A column mask with what it achieved.

    Attributes:
        columns: 0/1 float tensor ``[W]`` (1 = sampled column).
        acceleration: the requested acceleration R.
        center_fraction: the requested fully sampled centre fraction.
        kind: ``"random"`` or ``"equispaced"``.
        seed: the seed it was drawn with.
    """

    columns: torch.Tensor
    acceleration: float
    center_fraction: float
    kind: str
    seed: int

    @property
    def sampled(self) -> int:
        return int(self.columns.sum().item())

    @property
    def achieved_acceleration(self) -> float:
        """W / (number of sampled columns)."""
        return self.columns.numel() / max(self.sampled, 1)


def _check(width: int, acceleration: float, center_fraction: float, kind: str) -> None:
    if kind not in MASK_KINDS:
        raise ValueError(f"mask kind must be one of {MASK_KINDS}, got {kind!r}")
    if width < 1:
        raise ValueError(f"mask width must be >= 1, got {width}")
    if not (math.isfinite(acceleration) and acceleration >= 1.0):
        raise ValueError(f"acceleration must be >= 1, got {acceleration}")
    if not 0.0 <= center_fraction <= 1.0:
        raise ValueError(f"center fraction must lie in [0, 1], got {center_fraction}")


def center_columns(width: int, center_fraction: float) -> torch.Tensor:
    """0/1 ``[W]`` with the ``round(center_fraction * W)`` centre columns (around W//2) set."""
    low = round(width * center_fraction)
    cols = torch.zeros(width)
    start = (width - low + 1) // 2
    cols[start : start + low] = 1.0
    return cols


def cartesian_mask(
    width: int,
    acceleration: float,
    center_fraction: float | None = None,
    kind: str = "random",
    seed: int = 0,
) -> CartesianMask:
    """Draw a fastMRI-style column mask of ``width`` columns (see module docstring).

    Args:
        width: number of k-space columns W (phase-encoding direction).
        acceleration: R >= 1; about W / R columns are sampled.
        center_fraction: fully sampled centre fraction (default from :data:`DEFAULT_CENTER`).
        kind: ``"random"`` or ``"equispaced"``.
        seed: the draw's seed (random columns, or the equispaced offset).

    Returns:
        A :class:`CartesianMask`.

    Raises:
        ValueError: on acceleration < 1, a fraction outside [0, 1], an unknown kind, or a
            mask that would sample no column.
    """
    if center_fraction is None:
        center_fraction = default_center_fraction(acceleration)
    _check(width, acceleration, center_fraction, kind)
    cols = center_columns(width, center_fraction)
    low = int(cols.sum().item())
    target = max(round(width / acceleration), 0)
    g = rng(seed)
    if kind == "random":
        extra = max(target - low, 0)
        outside = torch.nonzero(cols == 0).flatten()
        pick = outside[torch.randperm(outside.numel(), generator=g)[:extra]]
        cols[pick] = 1.0
    elif target > low:
        spacing = acceleration * (width - low) / (width - acceleration * low)
        offset = int(torch.randint(0, max(round(spacing), 1), (1,), generator=g).item())
        idx = torch.arange(offset, width, spacing).round().long().clamp_max(width - 1)
        cols[idx] = 1.0
    if cols.sum() == 0:
        raise ValueError(
            f"the mask samples no k-space line (width {width}, acceleration {acceleration:g}, "
            f"center fraction {center_fraction:g}); lower the acceleration or raise the centre"
        )
    return CartesianMask(cols, float(acceleration), float(center_fraction), kind, int(seed))
