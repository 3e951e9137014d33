"""The generator interface: G(θ) → signal, with B independent members in one module.

A generator holds its parameters θ (with a leading dimension of ``batch`` independent
members, each initialised from its own seed) and a fixed random input (a buffer). Its
``forward()`` takes no argument and returns ``[batch, C, *spatial]``. There are no running
statistics or in-place buffer updates, so ``torch.func.functional_call`` and ``vmap`` work.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import nn

from ..seeding import rng, seed_list


class Generator(nn.Module):
    """Base class: bookkeeping shared by all generators (shape, batch, seeds, counts)."""

    #: buffers that hold one row per member (e.g. a fixed random input drawn per seed);
    #: every other buffer (kernels, resampling matrices) is shared by all members
    member_buffers: tuple[str, ...] = ()

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

    def select(self, members: Sequence[int]) -> Generator:
        """A generator of the listed members only, in that order (e.g. the ones still fitting).

        Parameters and per-member buffers (:attr:`member_buffers`) are copied row-wise;
        shared buffers are shared, not copied. Member j of the result is member
        ``members[j]`` of this one; :meth:`put` writes its parameters back.
        """
        rows = list(members)
        idx = torch.as_tensor(rows, dtype=torch.long)
        per_member = {
            id(module._buffers[name])
            for module in self.modules()
            if isinstance(module, Generator)
            for name in module.member_buffers
            if module._buffers.get(name) is not None
        }
        # deepcopy with a pre-filled memo: it rebuilds the module tree (settings, sizes) but
        # takes these tensors as they are given here instead of copying them.
        memo: dict[int, object] = {}
        for p in self.parameters():
            rows_p = p.detach().index_select(0, idx.to(p.device))
            memo[id(p)] = nn.Parameter(rows_p, requires_grad=p.requires_grad)
        for b in self.buffers():
            memo[id(b)] = b.index_select(0, idx.to(b.device)) if id(b) in per_member else b
        sub = copy.deepcopy(self, memo)
        for module in sub.modules():
            if isinstance(module, Generator):
                module.seeds = [module.seeds[i] for i in rows]
                module.batch = len(rows)
        return sub

    @torch.no_grad()
    def put(self, members: Sequence[int], sub: Generator) -> None:
        """Copy the parameters of ``sub`` (made by :meth:`select` with ``members``) back into
        the rows ``members`` of this generator."""
        mine, theirs = list(self.parameters()), list(sub.parameters())
        if len(mine) != len(theirs):
            raise ValueError(f"{type(sub).__name__} does not come from this generator")
        for p, q in zip(mine, theirs, strict=True):
            p.index_copy_(0, torch.as_tensor(list(members), device=p.device), q.detach())

    def prepare(self, y: torch.Tensor, operator: nn.Module) -> None:
        """Hook called by the fit engine before fitting ``y`` (e.g. a data-dependent init)."""

    @property
    def n(self) -> int:
        return math.prod(self.out_shape)
