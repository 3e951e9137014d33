"""Dense Gaussian measurement matrices, iid N(0, 1/m), so that E||Ax||^2 = ||x||^2."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..seeding import seed_list
from .base import Operator, Shape
from .matrix import MatrixOperator


class GaussianOperator(MatrixOperator):
    """y = A x with A in R^{m x n} iid N(0, 1/m), drawn from an explicit seed.

    Args:
        in_shape: shape of one signal (flattened to n entries).
        m: number of measurements.
        seed: one seed, or one per independent draw (then ``count`` = len(seed)).
        dtype: storage dtype of A: ``torch.float32`` (default) or ``torch.bfloat16``, which
            halves memory traffic; products are then accumulated in float32 and A in bf16
            *is* the measurement matrix (y must be made with this same operator).
        rows: per draw, how many of the m rows are real measurements (the rest are zero):
            draws with different numbers of measurements m_b in one batched operator, as a
            sweep over m needs. Draw b equals ``GaussianOperator(in_shape, m_b, seed_b)``
            padded with zero rows, which leave the loss and its gradient unchanged.
    """

    matrix: torch.Tensor

    def __init__(
        self,
        in_shape: Shape,
        m: int,
        seed: int | Sequence[int] = 0,
        dtype: torch.dtype = torch.float32,
        rows: Sequence[int] | None = None,
    ) -> None:
        seeds = seed_list(seed)
        Operator.__init__(self, in_shape, (int(m),), count=len(seeds))
        if m < 1:
            raise ValueError(f"GaussianOperator needs m >= 1 measurements, got {m}")
        if dtype not in (torch.float32, torch.bfloat16, torch.float64):
            raise ValueError(f"GaussianOperator stores float32, float64 or bfloat16, got {dtype}")
        active = [int(m)] * len(seeds) if rows is None else [int(r) for r in rows]
        if len(active) != len(seeds) or not all(1 <= r <= m for r in active):
            raise ValueError(
                f"GaussianOperator rows must give one count in [1, {m}] per seed, got {rows}"
            )
        n = self.n
        draw_dtype = torch.float64 if dtype == torch.float64 else torch.float32
        mats = torch.zeros(len(seeds), self.m, n, dtype=draw_dtype)
        for i, (s, r) in enumerate(zip(seeds, active, strict=True)):
            g = torch.Generator().manual_seed(int(s))
            mats[i, :r] = torch.randn(r, n, generator=g, dtype=draw_dtype) / math.sqrt(r)
        self.seeds = seeds
        self.rows = active
        self.register_buffer("matrix", mats.to(dtype))  # [count, m, n]
