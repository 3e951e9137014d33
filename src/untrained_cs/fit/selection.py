"""Stopping a fit on noisy data without the truth: a hold-out set, or the discrepancy principle.

* **hold-out**: a random share of the measurement entries is kept out of the fit (the loss
  and its gradient see only the rest). At every check (and early log) the residual on the
  held-out entries is computed; the iterate where it is lowest is the one returned, and a
  member stops when it has not improved for ``patience`` checks (reason ``"holdout"``).
* **discrepancy**: with the noise level σ known, a member stops once
  ½||A G(θ) − y||² ≤ ``safety`` × ½ m σ² (m the real degrees of freedom of y, σ² per real
  degree of freedom), i.e. once it fits y as well as the noise allows (reason
  ``"discrepancy"``): fitting further fits the noise.
* **settled**: the estimate, not the loss, has stopped changing. Members form groups (an
  ensemble's members one group, each single fit its own); at checks ``window`` iterations
  apart the group's mean output is compared with the one before, and the group stops when
  ||x̄_t − x̄_{t−window}|| / ||x̄_t|| < ``tol`` (reason ``"settled"``). The mean of an
  ensemble settles long before each member's loss stops falling, and seeing it needs no
  ground truth.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..defaults import HOLDOUT_FRACTION
from ..operators.noise import measured_entries, real_dof, variance_per_dof

#: checks without a new best held-out residual before a member stops
HOLDOUT_PATIENCE = 20
#: the discrepancy principle's slack over the expected noise energy
DISCREPANCY_SAFETY = 1.0
#: the settled rule's window (iterations between compared estimates) and tolerance
SETTLE_WINDOW = 100
SETTLE_TOL = 1e-3
STOP_RULES = ("converge", "holdout", "discrepancy", "settled")


@dataclass
class Holdout:
    """The held-out entries of y and the best iterate found on them, per member.

    Attributes:
        held: bool ``[B or 1, *out_shape]``, True where an entry is kept out of the fit.
        patience: scorings (checks and early logs) without improvement before a member stops.
        best: lowest held-out residual so far ``[B]``; iteration: where ``[B]``;
        since: checks since then ``[B]``; output: G(θ) there ``[B, *signal]``.
    """

    held: torch.Tensor
    patience: int = HOLDOUT_PATIENCE
    best: np.ndarray = field(default_factory=lambda: np.zeros(0))
    iteration: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    since: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    output: torch.Tensor | None = None
    #: 1 where an entry is fitted, 0 where held out (made once: the loop multiplies by it)
    keep: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.keep = (~self.held).to(torch.float32)

    def start(self, batch: int) -> None:
        self.best = np.full(batch, np.inf)
        self.iteration = np.zeros(batch, dtype=np.int64)
        self.since = np.zeros(batch, dtype=np.int64)

    def observe(
        self,
        iteration: int,
        held_loss: np.ndarray,
        out: torch.Tensor,
        active: np.ndarray,
        members: np.ndarray | None = None,
    ) -> np.ndarray:
        """Record a check's held-out residuals; return the members to stop now.

        ``held_loss`` and ``active`` are ``[B]``; ``out`` holds G(θ) of ``members`` (full-batch
        indices, default all B), one row each: the members no longer computed are stopped.
        """
        better = active & (held_loss < self.best)
        out = out.detach()
        rows_shape = (-1, *[1] * (out.dim() - 1))
        if members is None or len(members) == len(active):
            if self.output is None:
                self.output = out.clone()
            if better.any():
                mask = torch.as_tensor(better, device=out.device).reshape(rows_shape)
                self.output = torch.where(mask, out, self.output)
        elif better.any():
            assert self.output is not None  # the first observation is of every member
            idx = torch.as_tensor(members, device=out.device)
            mask = torch.as_tensor(better[members], device=out.device).reshape(rows_shape)
            rows = torch.where(mask, out, self.output.index_select(0, idx))
            self.output = self.output.index_copy(0, idx, rows)
        self.best = np.where(better, held_loss, self.best)
        self.iteration = np.where(better, iteration, self.iteration)
        self.since = np.where(better, 0, self.since + active.astype(np.int64))
        return active & (self.since >= self.patience)  # fmt: skip


@dataclass
class Settled:
    """The settled rule's bookkeeping (see module docstring).

    Attributes:
        groups: ``[B]`` the group of each member (0 … G−1); window, tol: the rule.
        reference: each group's mean output at its last compared check ``[G, *signal]``;
        since: that check's iteration ``[G]`` (−1: none yet); change: the last relative
        change measured ``[G]`` (NaN: none yet).
    """

    groups: np.ndarray
    window: int = SETTLE_WINDOW
    tol: float = SETTLE_TOL
    reference: torch.Tensor | None = None
    since: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    change: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.groups = np.asarray(self.groups, dtype=np.int64)
        count = int(self.groups.max()) + 1
        if sorted(set(self.groups.tolist())) != list(range(count)):
            raise ValueError("settled groups must number the groups 0 … G−1")
        if len(self.since) == 0:
            self.since = np.full(count, -1, dtype=np.int64)
            self.change = np.full(count, np.nan)

    @property
    def count(self) -> int:
        return len(self.since)

    def means(self, out: torch.Tensor) -> torch.Tensor:
        """The groups' mean outputs ``[G, *signal]`` of a full-batch output ``[B, *signal]``."""
        idx = torch.as_tensor(self.groups, device=out.device)
        sums = out.new_zeros((self.count, *out.shape[1:])).index_add_(0, idx, out)
        sizes = torch.bincount(idx, minlength=self.count).to(out.dtype)
        return sums / sizes.reshape(-1, *[1] * (out.dim() - 1))

    def observe(self, iteration: int, out: torch.Tensor, active: np.ndarray) -> np.ndarray:
        """Compare the active groups' means with their references; return the members to
        stop now (``out``: every member's G(θ) ``[B, *signal]``; ``active``: ``[B]``)."""
        mean = self.means(out.detach())
        live = np.zeros(self.count, dtype=bool)
        np.logical_or.at(live, self.groups, active)
        if self.reference is None:
            self.reference = mean.clone()
        due = live & (self.since >= 0) & (iteration - self.since >= self.window)
        settled = np.zeros(self.count, dtype=bool)
        if due.any():
            diff = (mean - self.reference).flatten(1).norm(dim=1)
            size = mean.flatten(1).norm(dim=1).clamp_min(1e-30)
            change = (diff / size).double().cpu().numpy()
            self.change = np.where(due, change, self.change)
            settled = due & (change < self.tol)
        renew = live & ~settled & ((self.since < 0) | due)
        if renew.any():
            mask = torch.as_tensor(renew, device=mean.device).reshape(-1, *[1] * (mean.dim() - 1))
            self.reference = torch.where(mask, mean, self.reference)
            self.since = np.where(renew, iteration, self.since)
        return active & settled[self.groups]


def holdout_entries(
    operator: torch.nn.Module,
    y: torch.Tensor,
    fraction: float,
    seed: int | Sequence[int],
    candidates: torch.Tensor | None = None,
    groups: np.ndarray | None = None,
) -> torch.Tensor:
    """The entries of y to hold out: a ``fraction`` of the measured ones (or of
    ``candidates``, e.g. k-space outside the fully sampled centre).

    One ``seed`` draws every member's entries in turn; one seed per member draws member b's
    from seed b alone, as the fit of that problem by itself would. With ``groups`` (``[B]``,
    0 … G−1: an ensemble's members one group) the draw is per group, the seeds one per
    group, and the members of a group share their group's entries.
    """
    from ..operators.noise import holdout_split

    pool = measured_entries(operator) if candidates is None else candidates.to(torch.bool)
    pool = pool.expand(y.shape[0], *pool.shape[1:]) if pool.shape[0] == 1 else pool
    if groups is not None:
        groups = np.asarray(groups, dtype=np.int64)
        first = [int(np.flatnonzero(groups == g)[0]) for g in range(int(groups.max()) + 1)]
        drawn = holdout_entries(operator, y[first], fraction, seed, pool[first])
        return drawn[torch.as_tensor(groups, device=drawn.device)]
    if isinstance(seed, int):
        return holdout_split(pool, fraction, seed)
    if len(seed) != pool.shape[0]:
        raise ValueError(f"{len(seed)} hold-out seeds for {pool.shape[0]} members")
    return torch.cat([holdout_split(pool[b : b + 1], fraction, s) for b, s in enumerate(seed)])


def discrepancy_floor(
    operator: torch.nn.Module, y: torch.Tensor, noise_std: float, safety: float = DISCREPANCY_SAFETY
) -> np.ndarray:
    """Per member: ``safety`` × ½ m σ², the loss at which the discrepancy principle stops."""
    if not noise_std > 0:
        raise ValueError("the discrepancy rule needs the noise level: noise_std > 0")
    dof = real_dof(measured_entries(operator), y.is_complex()).cpu().numpy()
    dof = np.broadcast_to(dof, (y.shape[0],)) if dof.size == 1 else dof
    return safety * 0.5 * dof * variance_per_dof(noise_std, y.is_complex())


@dataclass(frozen=True)
class NoisyStop:
    """Which rule ends a fit, and its settings (see the module docstring).

    Attributes:
        rule: ``"converge"`` (the convergence rule only), ``"holdout"``,
            ``"discrepancy"`` or ``"settled"``.
        noise_std: σ of the noise in y (E|n|² = σ² per entry); the discrepancy rule needs it.
        fraction, seed, candidates: the hold-out share, its draw (one seed, or one per
            member, or per group), and the entries it may take (default: every measured
            entry).
        safety, patience: the discrepancy slack and the hold-out patience (checks).
        groups: per member, its group (0 … G−1): an ensemble's members share one hold-out
            draw and settle together (None: every member its own group).
        window, tol: the settled rule's (see module docstring).
    """

    rule: str = "converge"
    noise_std: float | None = None
    fraction: float = HOLDOUT_FRACTION
    seed: int | tuple[int, ...] = 0
    candidates: torch.Tensor | None = None
    safety: float = DISCREPANCY_SAFETY
    patience: int = HOLDOUT_PATIENCE
    groups: tuple[int, ...] | None = None
    window: int = SETTLE_WINDOW
    tol: float = SETTLE_TOL

    def __post_init__(self) -> None:
        if self.window < 1 or not self.tol > 0:
            raise ValueError(f"the settled rule needs window >= 1 and tol > 0, got "
                             f"{self.window}, {self.tol}")  # fmt: skip
        if self.rule not in STOP_RULES:
            raise ValueError(f"stop rule must be one of {', '.join(STOP_RULES)}, got {self.rule!r}")
        if self.rule == "discrepancy" and not (self.noise_std or 0) > 0:
            raise ValueError("the discrepancy rule needs the noise level (noise_std > 0)")
