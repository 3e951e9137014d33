"""The "until convergence" rule and divergence detection, per member.

Evaluated every ``check_every`` iterations on the losses logged there (one host sync per
check, none in between). A member stops when

* its loss falls below ``loss_floor`` × ½||y||² (reason ``"loss_floor"``): the
  measurements are fitted to a relative residual ||AG(θ) − y|| / ||y|| ≤ √loss_floor
  (0.3 % at the default 1e-5) — an over-parameterised generator fits y exactly in the
  limit, so this is where "until convergence" ends in the interpolating regime, or
* the best loss of the last ``window`` iterations improves on the best of the window
  before by less than ``tol`` (relative) — the loss has settled (reason ``"converged"``), or
* its learning rate has annealed (reason ``"annealed"``): the time schedule
  (:meth:`~untrained_cs.fit.schedule.Schedule.annealed`) says its factor is down to the
  floor, so that further steps change nothing that matters, or
* ``max_iters`` is reached (reason ``"max_iters"``, not converged).

Using the windows' best losses makes the rule robust to the oscillation of Adam's loss.
A non-finite loss, or one above ``blowup`` × the best so far, marks a divergence. The
learning rate, its schedule and its plateau cuts are :mod:`~untrained_cs.fit.schedule`'s.

Every count above is the member's own: a member that waited in a fit's queue (see
:mod:`~untrained_cs.fit.members`) starts at a later iteration of the loop, ``start``, and
its windows, ``max_iters`` and stop iteration count from there.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

#: the stop reasons that count as converged (the others: ``max_iters``, ``holdout``, "")
CONVERGED_REASONS = ("converged", "loss_floor", "discrepancy", "annealed", "settled")


@dataclass(frozen=True)
class StopRule:
    """Settings of the stopping rule (see module docstring)."""

    max_iters: int = 20000
    tol: float = 1e-3
    window: int = 500
    loss_floor: float = 1e-5
    check_every: int = 50
    blowup: float = 1e4

    def validate(self) -> None:
        """Raise ``ValueError`` on settings the rule cannot run with."""
        if self.max_iters <= 0:
            raise ValueError(f"max_iters must be > 0, got {self.max_iters}")
        if self.tol <= 0:
            raise ValueError(f"tol must be > 0, got {self.tol}")
        if self.window <= 0 or self.check_every <= 0:
            raise ValueError("window and check_every must be > 0")
        if self.window % self.check_every:
            raise ValueError(
                f"window ({self.window}) must be a multiple of check_every ({self.check_every})"
            )


@dataclass
class StopState:
    """Per-member bookkeeping of the rule for B members."""

    rule: StopRule
    floor: np.ndarray  # [B] absolute loss floors
    floor_reason: str = "loss_floor"  # "discrepancy" when the floor is the noise level
    best: np.ndarray = field(init=False)
    losses: list[np.ndarray] = field(default_factory=list)
    active: np.ndarray = field(init=False)
    reason: list[str] = field(init=False)
    stop_iteration: np.ndarray = field(init=False)
    #: [B] the loop iteration of each member's own iteration 0 (0 unless it was queued)
    start: np.ndarray = field(init=False)
    #: [B] members waiting for a place in the compute batch (not active, not stopped)
    queued: np.ndarray = field(init=False)
    #: the distinct ``start`` of the active members ((0,) when none): what the loop's
    #: own-count tests need every iteration, kept current by every change of the two
    starts: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        b = len(self.floor)
        self.best = np.full(b, np.inf)
        self.active = np.ones(b, dtype=bool)
        self.reason = [""] * b
        self.stop_iteration = np.zeros(b, dtype=int)
        self.start = np.zeros(b, dtype=np.int64)
        self.queued = np.zeros(b, dtype=bool)
        self.starts = (0,)

    def refresh_starts(self) -> None:
        """Recompute :attr:`starts` (after ``start`` or ``active`` were set directly)."""
        self.starts = tuple(int(s) for s in np.unique(self.start[self.active])) or (0,)

    def enqueue(self, members: np.ndarray) -> None:
        """Put ``members`` (not yet started) in the queue."""
        self.queued[members] = True
        self.active[members] = False
        self.refresh_starts()

    def admit(self, members: np.ndarray, iteration: int) -> None:
        """Start the queued ``members`` at loop iteration ``iteration`` (their own 0)."""
        self.queued[members] = False
        self.active[members] = True
        self.start[members] = iteration
        self.best[members] = np.inf
        self.refresh_starts()

    def diverged(self, loss: np.ndarray) -> np.ndarray:
        """Members whose loss is non-finite or has blown up (only active ones)."""
        bad = ~np.isfinite(loss) | (loss > self.rule.blowup * self.best)
        return bad & self.active

    def update(self, iteration: int, loss: np.ndarray, annealed: np.ndarray | None = None) -> None:
        """Record a check's losses; mark the members that stop (``active`` False) with
        their reason.

        Args:
            iteration: the loop's iteration of the check.
            loss: the check's losses ``[B]``, finite for active members (call
                :meth:`diverged` first).
            annealed: the members whose learning rate has annealed (a mask ``[B]``,
                :meth:`~untrained_cs.fit.schedule.Schedule.annealed`); None: none.
        """
        r = self.rule
        own = iteration - self.start  # each member's own iteration count
        loss = np.where(self.active, loss, np.nan)
        self.losses.append(loss)
        self.best = np.where(self.active, np.fmin(self.best, loss), self.best)
        self.mark_stopped(self.active & (loss <= self.floor), iteration, self.floor_reason)
        per_window = r.window // r.check_every
        if len(self.losses) > 2 * per_window:
            hist = np.stack(self.losses[-2 * per_window :])
            with warnings.catch_warnings():  # stopped members' windows are all NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                prev = np.nanmin(hist[:per_window], axis=0)
                cur = np.nanmin(hist[per_window:], axis=0)
            rel = (prev - cur) / np.maximum(prev, 1e-300)
            # both windows must be the member's own checks (a queued member starts later)
            ripe = own // r.check_every + 1 > 2 * per_window
            # |rel|: a window that got worse (Adam oscillating) is not convergence
            self.mark_stopped(self.active & ripe & (np.abs(rel) < r.tol), iteration, "converged")
        if annealed is not None:
            self.mark_stopped(self.active & annealed, iteration, "annealed")
        self.mark_stopped(self.active & (own >= r.max_iters), iteration, "max_iters")

    def mark_stopped(self, members: np.ndarray, iteration: int, reason: str) -> None:
        """Stop ``members`` (a mask ``[B]``) at loop iteration ``iteration`` for ``reason``."""
        stopping = np.flatnonzero(members)
        for b in stopping:
            self.active[b] = False
            self.reason[b] = reason
            self.stop_iteration[b] = iteration - self.start[b]
        if len(stopping):
            self.refresh_starts()
