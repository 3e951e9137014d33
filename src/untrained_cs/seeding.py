"""Explicit seeds for random operators and generators (never a global seed)."""

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


def generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``; draws are moved to the device after."""
    return torch.Generator().manual_seed(int(seed))
