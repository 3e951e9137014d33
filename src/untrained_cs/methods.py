"""Method specs: how a problem is solved — an un-trained generator fit or a classical solver.

Frozen and JSON-serialisable like the problem specs (a record's key hashes both). Unset
(None) settings of a generator fit take the defaults of :mod:`untrained_cs.defaults` for the
problem's kind when resolved.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from .defaults import HOLDOUT_FRACTION, SCHEDULES, fit_defaults
from .fit.optim import OPTIMIZERS
from .fit.schedule import Schedule
from .fit.selection import STOP_RULES
from .fit.stopping import StopRule
from .generators.factory import GENERATORS as GENERATOR_NAMES
from .solvers.baselines import BASELINES
from .solvers.choose import WEIGHT_CHOICES

#: a solver method: the zero-filled estimate (the problem's own) or a classical solver
SOLVER_NAMES = ("zero_filled", *BASELINES)
STOPS = ("auto", *STOP_RULES)
#: "project": the schedule of :data:`~untrained_cs.defaults.SCHEDULES`, stopped at
#: convergence (this library's fit);
#: "published": the published deep-decoder practice, Adam at a constant learning rate for
#: exactly ``max_iters`` iterations (no convergence test; divergence is still caught)
RECIPES = ("project", "published")
#: tolerances that no fit reaches: the published recipe runs its full iteration count
_NEVER = 1e-300
#: the rule ``stop="auto"`` takes on noisy data (measured: bench/RESULTS.md, noisy grid)
NOISY_DEFAULT = "holdout"


@dataclass(frozen=True)
class GeneratorFit:
    """Fit an un-trained generator until convergence (None: the problem kind's default)."""

    kind: ClassVar[str] = "generator"
    generator: str = "deep-decoder"
    channels: int | None = None
    layers: int | None = None
    optimizer: str = "adam"
    lr: float | None = None
    max_iters: int | None = None
    tol: float = StopRule.tol
    loss_floor: float = StopRule.loss_floor
    #: what ends the fit: "converge" (the convergence rule), "holdout", "discrepancy", or
    #: "auto": converge on noiseless data, else :data:`NOISY_DEFAULT`
    stop: str = "auto"
    holdout_fraction: float = HOLDOUT_FRACTION
    recipe: str = "project"
    #: two-layer only: the triangular kernel's half-width (None: the generator's default)
    kernel_width: float | None = None
    #: the learning-rate schedule, a key of :data:`~untrained_cs.defaults.SCHEDULES` (None:
    #: the problem kind's default; GD and the published recipe: "constant")
    schedule: str | None = None
    #: the deep decoder's output multiplier (None: the problem's own, e.g. an MRI problem's
    #: scale of its zero-filled coil images); Figure 5 sets the notebook's
    output_scale: float | None = None
    #: the deep decoder's fixed input side (square; None: out / 2^(d-1), the generator's
    #: default); the published notebooks use 16
    input_side: int | None = None
    #: K > 1: K generators from K member seeds, fitted in one batch; the estimate is their
    #: mean (an ensemble), scored, stopped and selected as one
    ensemble: int = 1
    #: a TV term in the fit's loss, its weight relative to max|Aᵀy| (0: the paper's loss;
    #: None: the problem kind's default)
    tv_weight: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.ensemble, bool) or not isinstance(self.ensemble, int):
            raise ValueError(f"ensemble must be an integer, got {self.ensemble!r}")
        if self.ensemble < 1:
            raise ValueError(f"ensemble must be >= 1, got {self.ensemble}")
        if self.output_scale is not None and not (
            math.isfinite(self.output_scale) and self.output_scale > 0
        ):
            raise ValueError(f"output_scale must be a finite number > 0, got {self.output_scale}")
        if self.tv_weight is not None and not (
            math.isfinite(self.tv_weight) and self.tv_weight >= 0
        ):
            raise ValueError(f"tv_weight must be a finite number >= 0, got {self.tv_weight}")
        if self.kernel_width is not None:
            if self.generator != "two-layer":
                raise ValueError("kernel_width applies to the two-layer generator only")
            if not (math.isfinite(self.kernel_width) and self.kernel_width > 0):
                raise ValueError(f"kernel_width must be > 0, got {self.kernel_width}")
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        if self.recipe == "published" and self.schedule not in (None, "constant"):
            raise ValueError("schedule applies to the project recipe; published runs a constant lr")
        if self.recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, got {self.recipe!r}")
        if self.generator not in GENERATOR_NAMES:
            raise ValueError(
                f"unknown generator {self.generator!r}; choose from {', '.join(GENERATOR_NAMES)}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be adam or gd, got {self.optimizer!r}")
        if self.input_side is not None and self.generator != "deep-decoder":
            raise ValueError("input_side applies to the deep decoder only")
        for name in ("channels", "layers", "max_iters", "input_side"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if not (math.isfinite(self.tol) and self.tol > 0):
            raise ValueError(f"tol must be a finite number > 0, got {self.tol}")
        if not (math.isfinite(self.loss_floor) and 0 < self.loss_floor <= 1):
            raise ValueError(f"loss_floor must lie in (0, 1], got {self.loss_floor}")
        if self.stop not in STOPS:
            raise ValueError(f"stop must be one of {', '.join(STOPS)}, got {self.stop!r}")
        if not 0 < self.holdout_fraction < 1:
            raise ValueError(f"holdout_fraction must lie in (0, 1), got {self.holdout_fraction}")

    def resolved(self, problem_kind: str, noisy: bool = False) -> GeneratorFit:
        """This method with every unset setting filled from the kind's defaults (``noisy``:
        the data carry noise, which decides what ``stop="auto"`` means)."""
        d = fit_defaults(problem_kind, self.generator, self.optimizer, self.recipe, self.schedule)
        d["stop"] = NOISY_DEFAULT if noisy else "converge"
        keys = ("channels", "layers", "lr", "max_iters", "schedule", "tv_weight")
        changes = {k: d[k] for k in keys if k in d}
        unset: dict[str, Any] = {k: v for k, v in changes.items() if getattr(self, k) is None}
        if self.stop == "auto":
            unset["stop"] = d["stop"]
        return dataclasses.replace(self, **unset)

    def rule_overrides(self) -> dict[str, Any]:
        """The fit engine's keywords of this method: its stopping rule and schedule
        settings (see :data:`RECIPES`)."""
        tv = {"tv_weight": self.tv_weight} if self.tv_weight else {}
        if self.recipe == "published":
            return {"max_iters": self.max_iters, "tol": _NEVER, "loss_floor": _NEVER,
                    "plateau": False, **tv}  # fmt: skip
        return {"max_iters": self.max_iters, "tol": self.tol, "loss_floor": self.loss_floor,
                **SCHEDULES[self.schedule or "plateau"], **tv}  # fmt: skip

    def expected_iterations(self) -> int:
        """The iterations a fit of this resolved method runs at most: ``max_iters``, or
        fewer when its schedule anneals first (the first check at or after that point)."""
        cap = int(self.max_iters or 0)
        end = Schedule(**SCHEDULES[self.schedule or "plateau"]).annealed_at()
        if end is None:
            return cap
        every = StopRule.check_every
        return min(cap, -(-end // every) * every)

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": self.kind, **dataclasses.asdict(self)}
        # settings at their defaults are left out, so the keys of earlier runs stay the same
        if self.recipe == "project":
            del d["recipe"]
        if self.kernel_width is None:
            del d["kernel_width"]
        if self.input_side is None:
            del d["input_side"]
        if self.output_scale is None:
            del d["output_scale"]
        if self.ensemble == 1:
            del d["ensemble"]
        if not self.tv_weight:
            del d["tv_weight"]
        if self.schedule in (None, self._legacy_schedule):
            del d["schedule"]
        return d

    @property
    def _legacy_schedule(self) -> str:
        """The schedule every fit of this optimiser and recipe ran before schedules could
        be chosen (left out of :meth:`to_dict`, so their keys stay the same)."""
        return "constant" if self.optimizer == "gd" or self.recipe == "published" else "plateau"


@dataclass(frozen=True)
class Solver:
    """A classical solver on the problem's own operator, its weight chosen by a named rule."""

    kind: ClassVar[str] = "solver"
    name: str = "min_norm"
    weight_choice: str = "oracle"

    def __post_init__(self) -> None:
        if self.name not in SOLVER_NAMES:
            raise ValueError(f"unknown solver {self.name!r}; choose from {', '.join(SOLVER_NAMES)}")
        if self.weight_choice not in WEIGHT_CHOICES:
            raise ValueError(
                f"weight_choice must be one of {', '.join(WEIGHT_CHOICES)}, "
                f"got {self.weight_choice!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **dataclasses.asdict(self)}


Method = GeneratorFit | Solver


def method_from_dict(d: dict[str, Any]) -> Method:
    """Inverse of ``to_dict``; unknown kinds or fields raise ``ValueError``."""
    d = dict(d)
    kind = d.pop("kind", "generator")
    classes: dict[str, type] = {"generator": GeneratorFit, "solver": Solver}
    if kind not in classes:
        raise ValueError(f"unknown method kind {kind!r}; choose from generator, solver")
    cls = classes[kind]
    unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"unknown {kind} method field(s): {', '.join(unknown)}")
    return cls(**d)
