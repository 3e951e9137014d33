"""The learning rate of a fit: its initial value, the schedule that changes it, per member.

This module is the one place where a fit's rate is decided or changed. Each member b has

* an initial rate ``lr0[b]`` (:func:`initial_rates`): the caller's, else the optimiser's
  default (:func:`~untrained_cs.defaults.optimizer_lr`: Adam's constant, or GD's step 1/L
  from the Lipschitz estimate of :mod:`~untrained_cs.fit.step_size`);
* a base rate ``base[b]``, which starts at ``lr0[b]`` and is multiplied by ``factor`` at a
  plateau (``plateau=True``: the best loss has not improved by ``threshold``, relative,
  for ``patience`` checks, and the base is still above ``min_lr_ratio`` × ``lr0``) and
  halved each time a divergence of the member is undone;
* the rate its optimiser steps with: ``base[b]`` times the time schedule's factor at the
  member's own iteration (:meth:`Schedule.lr_factor`: a linear warm-up over the first
  ``warmup`` iterations, ``hold`` iterations at the peak, then a halving every ``half_life``
  iterations, 0: off, never below ``min_lr_ratio``), and 0 once the member has stopped (it
  is frozen).

Under a decaying time schedule the loss can keep shrinking by more than the stopping rule's
``tol`` per window long after the estimate has settled, so the schedule also says when a
member's rate has *annealed* (its factor is down to ``min_lr_ratio``): the stopping rule
(:mod:`~untrained_cs.fit.stopping`) then stops it with the reason ``"annealed"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from ..defaults import optimizer_lr
from ..generators.base import Generator
from ..operators.base import Operator
from .members import Work
from .step_size import gd_step_size
from .stopping import StopState

#: one learning rate for every member, or one per member
LearningRate = float | Sequence[float] | torch.Tensor | None


@dataclass(frozen=True)
class Schedule:
    """How a fit's learning rate changes (see the module docstring)."""

    plateau: bool = True
    patience: int = 5
    factor: float = 0.5
    threshold: float = 1e-2
    min_lr_ratio: float = 1e-4
    warmup: int = 0
    hold: int = 0
    half_life: int = 0

    def validate(self) -> None:
        """Raise ``ValueError`` on settings the schedule cannot run with."""
        if self.warmup < 0 or self.hold < 0 or self.half_life < 0:
            raise ValueError("warmup, hold and half_life must be >= 0")

    def lr_factor(self, iteration: int) -> float:
        """The time schedule's multiplier of the rate for the step of ``iteration``."""
        return float(self.lr_factors(np.asarray([iteration]))[0])

    def lr_factors(self, iterations: np.ndarray) -> np.ndarray:
        """:meth:`lr_factor` of each entry of ``iterations`` (the members' own counts)."""
        it = np.asarray(iterations, dtype=np.int64)
        factor = np.ones(it.shape)
        if self.half_life:
            halvings = np.maximum(it - self.warmup - self.hold, 0) // self.half_life
            factor = np.maximum(0.5**halvings, self.min_lr_ratio)
        if self.warmup:
            factor = np.where(it < self.warmup, (it + 1) / self.warmup, factor)
        return factor

    def annealed_at(self) -> int | None:
        """The first iteration at which :meth:`annealed` holds (None: never, no half-life)."""
        if not self.half_life:
            return None
        halvings = max(math.ceil(math.log2(1.0 / self.min_lr_ratio) - 1e-9), 0)
        return self.warmup + self.hold + halvings * self.half_life

    def lr_factor_changes(self, iteration: int) -> bool:
        """Whether :meth:`lr_factor` differs at ``iteration`` from the iteration before."""
        if iteration < self.warmup:
            return True
        since = iteration - self.warmup - self.hold
        return bool(self.half_life) and since >= 0 and since % self.half_life == 0

    def annealed(self, iterations: np.ndarray) -> np.ndarray:
        """Per entry of ``iterations`` (own counts): whether the time schedule's factor is
        down to ``min_lr_ratio`` (always False without ``half_life``)."""
        if not self.half_life:
            return np.zeros(np.shape(iterations), dtype=bool)
        return self.lr_factors(iterations) <= self.min_lr_ratio


#: the fit keywords that set a :class:`Schedule` field
SCHEDULE_FIELDS = tuple(f.name for f in dataclasses.fields(Schedule))


def settle_schedule(
    schedule: Schedule | None, optimizer: str, overrides: dict[str, Any]
) -> Schedule:
    """The schedule a fit runs: ``schedule`` (default: :class:`Schedule`) with
    ``overrides`` (fields of it) applied, validated; GD gets ``plateau=False`` (the
    paper's algorithm steps with a constant rate).

    Raises:
        ValueError: on invalid settings.
    """
    settled = dataclasses.replace(schedule or Schedule(), **overrides)
    settled.validate()
    if optimizer == "gd":
        settled = dataclasses.replace(settled, plateau=False)
    return settled


def check_lr(lr: LearningRate) -> None:
    """Raise ``ValueError`` unless ``lr`` is None or every rate in it is > 0."""
    if lr is not None and not bool(np.all(np.asarray(lr, dtype=np.float64) > 0)):
        raise ValueError(f"lr must be > 0, got {lr}")


def initial_rates(gen: Generator, op: Operator, optimizer: str, lr: LearningRate) -> np.ndarray:
    """Per-member starting rates (float64 ``[B]``).

    Args:
        gen, op: the fit's generator (prepared) and operator, on the fit's device.
        optimizer: ``"adam"`` or ``"gd"``.
        lr: one rate, or one per member (checked by :func:`check_lr`); None: the
            optimiser's default (Adam's constant, GD's step 1/L at the initialisation).
    """
    lr = lr if lr is not None else optimizer_lr(optimizer)
    if lr is not None:
        given = torch.as_tensor(lr, dtype=torch.float64).reshape(-1)
        lr_b = given.expand(gen.batch).clone() if given.numel() == 1 else given
    else:
        lr_b = gd_step_size(gen, op)
    return lr_b.detach().cpu().double().numpy()


class Running(Protocol):
    """What :meth:`Rates.apply` needs of a :class:`~untrained_cs.fit.state.FitState`."""

    work: Work
    stop: StopState
    iteration: int
    device: torch.device


@dataclass
class Rates:
    """The learning rates of a fit's B members under its :class:`Schedule`.

    Attributes:
        schedule: the schedule in force (the fit's own, settled copy).
        lr0: the initial rates ``[B]`` (float64).
        base: the rates before the time schedule's factor ``[B]``: ``lr0`` after the
            plateau cuts and the halvings on divergence.
        bad_checks: checks since the member's best loss last improved by ``threshold``.
    """

    schedule: Schedule
    lr0: np.ndarray
    base: np.ndarray = field(init=False)
    bad_checks: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.base = self.lr0.copy()
        self.bad_checks = np.zeros(len(self.lr0), dtype=int)

    def in_use(self, own: np.ndarray) -> np.ndarray:
        """The rates the members step with at their own iterations ``own`` ``[B]`` (as
        logged: a stopped member's is what it would be, not the frozen 0)."""
        return self.base * self.schedule.lr_factors(own)

    def apply(self, state: Running) -> None:
        """Give the compute batch's optimiser its rates at ``state.iteration``: the base
        rate times the time schedule's factor for active members, 0 (frozen) for the others.
        """
        w, stop = state.work, state.stop
        scale = self.schedule.lr_factors(state.iteration - stop.start[w.index])
        lr = np.where(stop.active[w.index], self.base[w.index] * scale, 0.0)
        w.opt.lr = torch.as_tensor(lr, device=state.device)

    def on_check(self, loss: np.ndarray, stop: StopState) -> None:
        """The plateau cut at a check: count the checks without improvement on the best
        loss so far (``stop.best``, before this check's losses enter it); cut the base rate
        of the active members whose count reached ``patience``.

        Args:
            loss: the check's loss ``[B]`` (finite for active members).
            stop: the stopping rule's bookkeeping, before its update at this check.
        """
        s = self.schedule
        loss = np.where(stop.active, loss, np.nan)
        improved = loss < stop.best * (1.0 - s.threshold)
        self.bad_checks = np.where(improved, 0, self.bad_checks + 1)
        if s.plateau:
            floor = self.lr0 * s.min_lr_ratio
            cut = stop.active & (self.bad_checks >= s.patience) & (self.base > floor)
            self.base = np.where(cut, self.base * s.factor, self.base)
            self.bad_checks = np.where(cut, 0, self.bad_checks)

    def halve(self, members: np.ndarray) -> None:
        """Halve the base rate of ``members`` (a mask ``[B]``): their divergence was undone."""
        self.base = np.where(members, self.base * 0.5, self.base)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The rates as CPU tensors (copies): ``lr0``, ``base``, ``bad_checks``."""
        return {
            "lr0": torch.from_numpy(np.asarray(self.lr0, dtype=np.float64).copy()),
            "base": torch.from_numpy(self.base.astype(np.float64)),
            "bad_checks": torch.from_numpy(self.bad_checks.astype(np.int64)),
        }

    @classmethod
    def from_state_dict(cls, saved: dict[str, torch.Tensor], schedule: Schedule) -> Rates:
        """Inverse of :meth:`state_dict`, under ``schedule``."""
        rates = cls(schedule, saved["lr0"].numpy().copy())
        rates.base = saved["base"].numpy().copy()
        rates.bad_checks = saved["bad_checks"].numpy().copy()
        return rates

    def admit(self, members: np.ndarray) -> None:
        """Members that start now (from a fit's queue) count their plateau checks afresh."""
        self.bad_checks[members] = 0
