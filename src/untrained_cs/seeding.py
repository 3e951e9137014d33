"""Explicit random-number generators for operators and networks (never a global seed);
the seeds themselves derive from a root seed in :mod:`untrained_cs.problems.seeds`."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def seed_list(seed: int | Sequence[int]) -> list[int]:
    """One seed → ``[seed]``; a sequence of seeds → a list (one per independent draw)."""
    if hasattr(seed, "__index__"):
        return [int(seed)]  # type: ignore[arg-type]
    seeds = [int(s) for s in seed]
    if not seeds:
        raise ValueError("an empty list of seeds was given")
    return seeds


def rng(seed: int) -> torch.Generator:
    """A CPU random-number generator (``torch.Generator``) seeded with ``seed``; draws are
    moved to the device after. (Named ``rng`` so as not to be read as a generator network.)"""
    return torch.Generator().manual_seed(int(seed))
