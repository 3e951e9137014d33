"""Pixel mask (inpainting): observe a seeded random subset of the signal's entries."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..seeding import rng, seed_list
from .base import Operator, Shape


class MaskOperator(Operator):
    """y = x[observed], the entries of a seeded random subset holding ``fraction`` of them.

    Signals ``[C, *spatial]`` lose whole pixels: one random subset of the positions, every
    channel observed there (a grey image or a signal: m = round(fraction * n)). The output
    is the list of observed values ``[B, m]``, channel by channel; the adjoint
    puts them back in place and zero-fills the rest. Unscaled, so E||Ax||^2 = (m/n) ||x||^2.
    """

    kept: torch.Tensor

    def __init__(self, in_shape: Shape, fraction: float, seed: int | Sequence[int] = 0) -> None:
        seeds = seed_list(seed)
        n = math.prod(in_shape)
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"MaskOperator fraction must lie in (0, 1], got {fraction}")
        channels, pixels = in_shape[0], n // in_shape[0]
        per_channel = max(1, round(fraction * pixels))
        super().__init__(in_shape, (channels * per_channel,), count=len(seeds))
        self.fraction = float(fraction)
        self.seeds = seeds
        offsets = torch.arange(channels)[:, None] * pixels  # whole pixels: every channel
        kept = [
            (
                offsets + torch.randperm(pixels, generator=rng(s))[:per_channel].sort().values
            ).reshape(-1)
            for s in seeds
        ]
        self.register_buffer("kept", torch.stack(kept))  # [count, m]

    def _kept_for(self, batch: int) -> torch.Tensor:
        return self.kept.expand(batch, -1) if self.count == 1 else self.kept

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        return torch.gather(x.reshape(b, -1), 1, self._kept_for(b))

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        b = y.shape[0]
        full = torch.zeros(b, self.n, dtype=y.dtype, device=y.device)
        return full.scatter(1, self._kept_for(b), y).reshape(b, *self.in_shape)
