"""Fast structured random operator: random signs, an orthonormal transform, a row subset.

A = sqrt(n/m) P T D with D = diag(random ±1), T the orthonormal DCT (real) or FFT (complex,
then A is R-linear) of the flattened signal, P a seeded choice of m of the n rows. It needs
O(n) memory and O(n log n) time, so 512x512 images and larger are cheap; E||Ax||^2 = ||x||^2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..seeding import rng, seed_list
from .base import Operator, Shape
from .transforms import dct, idct

TRANSFORMS = ("dct", "fft")


class StructuredOperator(Operator):
    """Random-sign, orthonormal-transform, random-row-subset operator (see module docstring).

    Args:
        in_shape: shape of one signal (flattened to n entries).
        m: number of measurements (rows kept), 1 <= m <= n.
        seed: one seed, or one per independent draw.
        transform: ``"dct"`` (real output) or ``"fft"`` (complex output).
    """

    signs: torch.Tensor
    rows: torch.Tensor

    def __init__(
        self,
        in_shape: Shape,
        m: int,
        seed: int | Sequence[int] = 0,
        transform: str = "dct",
    ) -> None:
        seeds = seed_list(seed)
        super().__init__(in_shape, (int(m),), count=len(seeds))
        n = self.n
        if not 1 <= m <= n:
            raise ValueError(f"StructuredOperator needs 1 <= m <= n = {n}, got m = {m}")
        if transform not in TRANSFORMS:
            raise ValueError(f"StructuredOperator transform must be one of {TRANSFORMS}")
        self.transform = transform
        self.complex_output = transform == "fft"
        self.seeds = seeds
        signs, rows = [], []
        for s in seeds:
            g = rng(s)
            signs.append(torch.randint(0, 2, (n,), generator=g).float() * 2 - 1)
            rows.append(torch.randperm(n, generator=g)[:m].sort().values)
        self.register_buffer("signs", torch.stack(signs))  # [count, n]
        self.register_buffer("rows", torch.stack(rows))  # [count, m]
        self.scale = math.sqrt(n / m)

    def select(self, members: Sequence[int]) -> StructuredOperator:
        """The operator of the listed draws only, in that order (itself when it holds one
        draw, which every member shares); lets a batched fit drop its stopped members."""
        if self.count == 1:
            return self
        seeds = [self.seeds[i] for i in members]
        return StructuredOperator(self.in_shape, self.m, seeds, self.transform).to(
            self.signs.device
        )

    def _rows_for(self, batch: int) -> torch.Tensor:
        return self.rows.expand(batch, -1) if self.count == 1 else self.rows

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        flat = x.reshape(b, -1) * self.signs.to(x.dtype)
        if self.transform == "dct":
            coeffs = dct(flat)
        else:
            coeffs = torch.fft.fft(flat, norm="ortho")
        return torch.gather(coeffs, 1, self._rows_for(b)) * self.scale

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        b = y.shape[0]
        full = torch.zeros(b, self.n, dtype=y.dtype, device=y.device)
        full = full.scatter(1, self._rows_for(b), y * self.scale)
        if self.transform == "dct":
            flat = idct(full)
        else:
            flat = torch.fft.ifft(full, norm="ortho").real
        return (flat * self.signs.to(flat.dtype)).reshape(b, *self.in_shape)
