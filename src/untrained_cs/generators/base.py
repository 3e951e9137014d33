"""The generator interface: G(θ) → signal, with B independent members in one module.

A generator holds its parameters θ (with a leading dimension of ``batch`` independent
members, each initialised from its own seed) and a fixed random input (a buffer). Its
``forward()`` takes no argument and returns ``[batch, C, *spatial]``. There are no running
statistics or in-place buffer updates, so ``torch.func.functional_call`` and ``vmap`` work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..seeding import rng, seed_list


class Generator(nn.Module):
    """Base class: bookkeeping shared by all generators (shape, batch, seeds, counts)."""

    def __init__(self, out_shape: Sequence[int], seed: int | Sequence[int]) -> None:
        super().__init__()
        self.out_shape: tuple[int, ...] = tuple(int(s) for s in out_shape)
        self.seeds = seed_list(seed)
        self.batch = len(self.seeds)

    def member_generators(self) -> list[torch.Generator]:
        """One seeded CPU generator per member, consumed in the same order for every member."""
        return [rng(s) for s in self.seeds]

    @staticmethod
    def stack_draws(gens: list[torch.Generator], draw) -> torch.Tensor:
        """Stack ``draw(g)`` over the members' generators (draws are made on the CPU)."""
        return torch.stack([draw(g) for g in gens])

    def num_parameters(self) -> int:
        """Trainable parameters of one member (the model's size in the paper's sense)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad) // self.batch

    def prepare(self, y: torch.Tensor, operator: nn.Module) -> None:
        """Hook called by the fit engine before fitting ``y`` (e.g. a data-dependent init)."""

    @property
    def n(self) -> int:
        return math.prod(self.out_shape)
