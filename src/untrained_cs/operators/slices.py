"""Slice-wise structured measurements of a volume: each slice measured by its own operator.

A volume ``[C, D, H, W]`` (or any ``[C, D, *plane]``) is measured slice by slice: slice d
(``[C, H, W]``) by the structured operator A_d = sqrt(n_s/m_s) P_d T D_d of
:class:`~untrained_cs.operators.structured.StructuredOperator` with its own seed, m_s =
round(ratio · n_s) rows of its n_s = C·H·W entries, so m = D·m_s in all and
E||Ax||² = ||x||². The slice seeds derive from the operator's seed; :meth:`per_slice` gives
the same measurements as a 2D operator of D independent draws (slice d = draw d), so a 3D
fit on the volume and a batch of 2D fits on its slices see literally the same y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..seeding import rng, seed_list
from .base import Operator, Shape
from .structured import StructuredOperator
from .transforms import dct, idct


def slice_seeds(seed: int, slices: int) -> list[int]:
    """The seeds of the ``slices`` slice operators of a draw seeded ``seed``."""
    return [int(s) for s in torch.randint(0, 2**62, (slices,), generator=rng(seed))]


class SliceStructuredOperator(Operator):
    """Structured random measurements of every slice of a volume (see module docstring).

    Args:
        in_shape: ``(C, D, *plane)``: channels, slices, the slice's spatial axes.
        ratio: m_s / n_s of every slice, in (0, 1].
        seed: one seed, or one per independent draw of the whole operator.

    The output is ``[D * m_s]``: slice 0's measurements, then slice 1's, and so on.
    """

    signs: torch.Tensor
    rows: torch.Tensor

    def __init__(self, in_shape: Shape, ratio: float, seed: int | Sequence[int] = 0) -> None:
        if len(in_shape) < 3:
            raise ValueError(
                f"SliceStructuredOperator needs a volume (C, D, H, W), got {tuple(in_shape)}"
            )
        c, d, *plane = (int(s) for s in in_shape)
        self.slice_shape: Shape = (c, *plane)
        n_s = math.prod(self.slice_shape)
        m_s = max(1, round(ratio * n_s))
        seeds = seed_list(seed)
        super().__init__(in_shape, (d * m_s,), count=len(seeds))
        self.seeds = seeds
        self.slice_seeds = [slice_seeds(s, d) for s in seeds]
        draws = [StructuredOperator(self.slice_shape, m_s, ss) for ss in self.slice_seeds]
        self.register_buffer("signs", torch.stack([op.signs for op in draws]))  # [count, D, n_s]
        self.register_buffer("rows", torch.stack([op.rows for op in draws]))  # [count, D, m_s]
        self.slices, self.m_slice = d, m_s
        self.scale = math.sqrt(n_s / m_s)

    def per_slice(self, draw: int = 0) -> StructuredOperator:
        """The 2D operator of D independent draws whose draw d measures slice d exactly as
        this operator's draw ``draw`` does (input ``[D, C, H, W]``, output ``[D, m_s]``)."""
        return StructuredOperator(self.slice_shape, self.m_slice, self.slice_seeds[draw])

    def _rows_for(self, batch: int) -> torch.Tensor:
        return self.rows.expand(batch, -1, -1) if self.count == 1 else self.rows

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        flat = x.movedim(2, 1).reshape(b, self.slices, -1) * self.signs.to(x.dtype)
        coeffs = dct(flat)
        return (torch.gather(coeffs, 2, self._rows_for(b)) * self.scale).reshape(b, -1)

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        b = y.shape[0]
        n_s = self.signs.shape[-1]
        full = torch.zeros(b, self.slices, n_s, dtype=y.dtype, device=y.device)
        full = full.scatter(2, self._rows_for(b), y.reshape(b, self.slices, -1) * self.scale)
        flat = idct(full) * self.signs.to(y.dtype)
        c, *plane = self.slice_shape
        return flat.reshape(b, self.slices, c, *plane).movedim(1, 2)
