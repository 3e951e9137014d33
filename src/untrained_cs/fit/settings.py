"""The keywords a fit takes (:class:`FitOptions`), and those fixed for its whole run
(:class:`FitSettings`, saved with its state).

:func:`~untrained_cs.fit.fit` and :func:`~untrained_cs.fit.init_state` take the same
keywords, written once here. The fields of the stopping rule (:class:`StopRule`) and of
the learning-rate schedule (:class:`~untrained_cs.fit.schedule.Schedule`) are keywords too
(``max_iters=…, warmup=…``): :func:`fit_settings` routes each to its owner.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

import torch

from .members import COMPACT_AT
from .optim import OPTIMIZERS
from .schedule import SCHEDULE_FIELDS, LearningRate, Schedule, settle_schedule
from .selection import NoisyStop
from .stopping import StopRule

#: the fit keywords that set a :class:`StopRule` field
RULE_FIELDS = tuple(f.name for f in dataclasses.fields(StopRule))


class FitOptions(TypedDict, total=False):
    """The keywords of :func:`~untrained_cs.fit.fit` (all optional).

    Attributes:
        truth: ground truth ``[B, *signal]``: logs the true MSE/PSNR and the oracle-best
            iteration (it never influences the fit).
        optimizer: ``"adam"`` (published practice, the default) or ``"gd"`` (plain
            gradient descent).
        lr: learning rate / step, one or one per member; default Adam's 0.005 and GD's
            1/L, with L the Lipschitz estimate ||A||² ||J_G||² at the initialisation
            (:func:`~untrained_cs.fit.schedule.initial_rates`).
        rule: the stopping rule (default :class:`StopRule`); its fields as keywords
            (``max_iters``, ``tol``, ``window``, ``loss_floor``, ``check_every``,
            ``blowup``) change the fit's copy.
        schedule: the learning-rate schedule (default
            :class:`~untrained_cs.fit.schedule.Schedule`); its fields as keywords
            (``plateau``, ``patience``, ``factor``, ``threshold``, ``min_lr_ratio``,
            ``warmup``, ``hold``, ``half_life``) change the fit's copy; GD never cuts at a plateau.
        device: ``"auto"`` (the default), ``"cpu"``, ``"cuda"``.
        max_restarts: divergences undone (step halved each time) before giving up (8).
        error: scorer, generator output → per-member MSE (normalised by the data
            range²) in the truth's own space (e.g. an MRI magnitude): logged as ``mse``.
        stop: for noisy data, a rule that needs no truth (:class:`NoisyStop`: hold-out
            selection or the discrepancy principle); default: the convergence rule only.
        compact: drop stopped members from the computation (True, see
            :mod:`~untrained_cs.fit.members`); False keeps them in the batch, frozen.
        cap: compute at most this many members at once; the others wait in a queue and
            start, in member order, as places free up (each counts its iterations from its
            own start). Needs an operator that can be split by member and no hold-out.
        compile: run each iteration's forward pass (generator, operator, loss) through
            ``torch.compile`` (:mod:`~untrained_cs.fit.compiled`; default False).
        tv_weight: add λ_b TV(G(θ)) to each member's loss, λ_b = tv_weight × max|Aᵀy_b|
            (the TV solver's weight scale); default 0, the paper's loss.
    """

    truth: torch.Tensor | None
    optimizer: str
    lr: LearningRate
    rule: StopRule | None
    schedule: Schedule | None
    device: str | torch.device
    max_restarts: int
    error: Callable[[torch.Tensor], torch.Tensor] | None
    stop: NoisyStop | None
    compact: bool
    cap: int | None
    compile: bool
    tv_weight: float
    max_iters: int
    tol: float
    window: int
    loss_floor: float
    check_every: int
    blowup: float
    plateau: bool
    patience: int
    factor: float
    threshold: float
    min_lr_ratio: float
    warmup: int
    hold: int
    half_life: int


@dataclass(frozen=True)
class FitSettings:
    """What a fit runs with, fixed from its start (saved with its state).

    Attributes:
        optimizer: ``"adam"`` or ``"gd"``.
        rule, schedule: the stopping rule and the learning-rate schedule in force (the
            fit's own, validated copies).
        max_restarts: divergences undone per member before the fit gives up.
        compact_at: the active share of the compute batch at which stopped members are
            dropped from it (0: never, they stay frozen in the batch).
        cap: the most members computed at once (None: all); the others wait in the
            queue (``stop.queued``) until places free up.
        compile: the forward pass runs compiled (``torch.compile``).
        tv_weight: a TV term λ_b TV(G(θ)) in the loss, λ_b = tv_weight × max|Aᵀy_b| per
            member (0: none, the paper's loss).
    """

    optimizer: str = "adam"
    rule: StopRule = field(default_factory=StopRule)
    schedule: Schedule = field(default_factory=Schedule)
    max_restarts: int = 8
    compact_at: float = COMPACT_AT
    cap: int | None = None
    compile: bool = False
    tv_weight: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain values (the rule and the schedule as dicts)."""
        return {
            "optimizer": self.optimizer,
            "rule": dataclasses.asdict(self.rule),
            "schedule": dataclasses.asdict(self.schedule),
            "max_restarts": self.max_restarts,
            "compact_at": self.compact_at,
            "cap": self.cap,
            "compile": self.compile,
            "tv_weight": self.tv_weight,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FitSettings:
        """Inverse of :meth:`to_dict` (other keys of ``d`` are ignored)."""
        return cls(
            optimizer=str(d["optimizer"]),
            rule=StopRule(**d["rule"]),
            schedule=Schedule(**d["schedule"]),
            max_restarts=int(d["max_restarts"]),
            compact_at=float(d.get("compact_at", COMPACT_AT)),
            cap=d.get("cap"),
            compile=bool(d.get("compile", False)),
            tv_weight=float(d.get("tv_weight", 0.0)),
        )


def fit_settings(options: FitOptions, batch: int) -> FitSettings:
    """The settings of a fit of ``batch`` members with the keywords ``options``.

    Returns:
        the validated settings; ``cap`` is None unless it is below ``batch``.

    Raises:
        TypeError: on an unknown keyword; ValueError: on invalid settings.
    """
    known = FitOptions.__optional_keys__
    for key in options:
        if key not in known:
            raise TypeError(f"fit() got an unknown setting {key!r}")
    optimizer = options.get("optimizer", "adam")
    given: dict[str, Any] = dict(options)
    on_rule = {k: v for k, v in given.items() if k in RULE_FIELDS}
    rule = dataclasses.replace(options.get("rule") or StopRule(), **on_rule)
    rule.validate()
    on_schedule = {k: v for k, v in given.items() if k in SCHEDULE_FIELDS}
    schedule = settle_schedule(options.get("schedule"), optimizer, on_schedule)
    cap, compact = options.get("cap"), options.get("compact", True)
    if cap is not None and cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    if cap is not None and not compact:
        raise ValueError("a fit with a queue (cap) drops stopped members: it needs compact=True")
    queue = cap if cap is not None and cap < batch else None  # None: no queue
    stop = options.get("stop")
    if queue is not None and stop is not None and stop.rule == "holdout":
        raise ValueError("a fit with a queue (cap) cannot use the hold-out rule")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    tv_weight = float(options.get("tv_weight", 0.0))
    if not (math.isfinite(tv_weight) and tv_weight >= 0):
        raise ValueError(f"tv_weight must be a finite number >= 0, got {tv_weight}")
    return FitSettings(
        optimizer=optimizer,
        rule=rule,
        schedule=schedule,
        max_restarts=options.get("max_restarts", 8),
        compact_at=COMPACT_AT if compact else 0.0,
        cap=None if queue is None else int(queue),
        compile=bool(options.get("compile", False)),
        tv_weight=tv_weight,
    )
