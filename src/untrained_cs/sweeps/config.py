"""Sweep configs: a base problem and method, axes to vary (grid and zip), checked up front.

A config (YAML) names a ``base`` problem spec and method spec (the dict forms of
:class:`~untrained_cs.problems.ProblemSpec` and :mod:`untrained_cs.methods`), then
``grid`` (every combination of its axes) and ``zip`` (axes of one length, varied together);
an axis is ``seed``, ``signal.<field>``, ``measurement.<field>`` or ``method.<field>``.
Every fit is validated while the list is expanded, so a bad value stops the sweep before
anything runs, with one line naming the axis and value. The fits are counted from the axes
before any is made: a config of more than :data:`MAX_FITS` is refused with its count, and
:func:`parse` checks each axis value (in a fit of the grid) without expanding the rest.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..methods import GeneratorFit, method_from_dict
from ..problems import ProblemSpec, spec_hash
from ..problems.seeds import check_root

KEYS = ("base", "grid", "zip", "batch", "task_size", "retries", "save_estimates")
#: members computed at once in a batched task when the config names none
BATCH = 32
#: fits of one task, in multiples of ``batch``, when the config names no ``task_size``:
#: they queue for the batch's places, so that a finished fit's place goes to the next
#: (batched dense-operator fits without a hold-out; others keep tasks of one batch)
TASK_BATCHES = 4
#: the most fits one sweep expands (each is held in memory while the sweep plans and runs)
MAX_FITS = 500_000


@dataclass(frozen=True)
class Fit:
    """One fit of a sweep: its problem, its method (defaults resolved) and its key."""

    problem: ProblemSpec
    method: GeneratorFit
    key: str


@dataclass
class SweepConfig:
    """A validated sweep config and the fits it expands to."""

    base: dict[str, Any]
    grid: dict[str, list[Any]] = field(default_factory=dict)
    zip: dict[str, list[Any]] = field(default_factory=dict)
    batch: int = BATCH
    retries: int = 1
    save_estimates: bool = False
    #: fits per task (None: ``TASK_BATCHES`` × ``batch``)
    task_size: int | None = None

    _fits: list[Fit] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def fits_per_task(self) -> int:
        return self.task_size or TASK_BATCHES * self.batch

    def count(self) -> int:
        """The fits the axes name (grid product × zip rows), counted without making any;
        fits that come out identical are counted once by :meth:`fits` only."""
        rows = len(next(iter(self.zip.values()))) if self.zip else 1
        return math.prod(len(v) for v in self.grid.values()) * rows

    def changes(self, pinned: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """The axis values of every fit, in :meth:`fits` order; a grid axis in ``pinned``
        takes only its pinned value."""
        pinned = pinned or {}
        grid = {a: [pinned[a]] if a in pinned else v for a, v in self.grid.items()}
        rows = list(zip(*self.zip.values(), strict=True)) if self.zip else [()]
        for combo in itertools.product(*grid.values()):
            for row in rows:
                changes = dict(zip(grid, combo, strict=True))
                changes.update(zip(self.zip, row, strict=True))
                yield changes

    def fits(self) -> list[Fit]:
        """Every fit of the sweep, in a stable order (grid product, then zip rows); made
        and checked once, then kept."""
        if self._fits is None:
            out: list[Fit] = []
            seen: set[str] = set()
            maker = FitMaker(self.base)
            for changes in self.changes():
                f = maker(changes)
                if f.key not in seen:
                    seen.add(f.key)
                    out.append(f)
            self._fits = out
        return self._fits


class FitMaker:
    """:func:`make_fit` of one base, faster over many fits: the base is parsed once and
    each variant of the method resolved once (the same fits and keys; on any error the
    fit is made by :func:`make_fit`, for its message)."""

    def __init__(self, base: dict[str, Any]) -> None:
        self.base = base
        self.problem: ProblemSpec | None = None
        self.methods: dict[str, tuple[GeneratorFit, dict[str, Any]]] = {}

    def __call__(self, changes: dict[str, Any]) -> Fit:
        try:
            return self._make(changes)
        except (ValueError, TypeError):
            return make_fit(self.base, changes)  # raises the one-line error

    def _make(self, changes: dict[str, Any]) -> Fit:
        if self.problem is None:
            self.problem = ProblemSpec.from_dict(self.base.get("problem", {}))
        method_changes = {a: v for a, v in changes.items() if a.startswith("method.")}
        problem_changes = {a: v for a, v in changes.items() if a not in method_changes}
        problem = self.problem.replace(**problem_changes) if problem_changes else self.problem
        noisy = problem.noisy
        key = json.dumps([sorted(method_changes.items()), problem.signal.kind, noisy])
        if key not in self.methods:
            f = make_fit(self.base, {**problem_changes, **method_changes})
            self.methods[key] = (f.method, f.method.to_dict())
        method, method_dict = self.methods[key]
        return Fit(problem, method, spec_hash(problem, method_dict))


def make_fit(base: dict[str, Any], changes: dict[str, Any]) -> Fit:
    """The fit of ``base`` with the axis values ``changes`` (ValueError naming the axis)."""
    problem = ProblemSpec.from_dict(base.get("problem", {}))
    method_d = dict(base.get("method", {}))
    problem_changes = {}
    for axis, value in changes.items():
        if axis.startswith("method."):
            method_d[axis.split(".", 1)[1]] = value
        else:
            problem_changes[axis] = value
    try:
        problem = problem.replace(**problem_changes) if problem_changes else problem
        method = method_from_dict(method_d)
    except (ValueError, TypeError) as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in changes.items())
        raise ValueError(f"sweep fit ({shown}): {exc}") from None
    if not isinstance(method, GeneratorFit):
        raise ValueError("sweeps fit generators: the base method must be of kind generator")
    resolved = method.resolved(problem.signal.kind, problem.noisy)
    return Fit(problem, resolved, spec_hash(problem, resolved))


def parse(d: Any, source: str = "config") -> SweepConfig:
    """A :class:`SweepConfig` from the loaded YAML (ValueError: one line on what is wrong)."""
    if not isinstance(d, dict):
        raise ValueError(f"{source}: expected a mapping with keys {', '.join(KEYS)}")
    unknown = sorted(set(d) - set(KEYS))
    if unknown:
        raise ValueError(f"{source}: unknown key(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    base = d.get("base")
    if not isinstance(base, dict) or not set(base) <= {"problem", "method"}:
        raise ValueError(f"{source}: base must be a mapping of problem and method")
    axes = {}
    for part in ("grid", "zip"):
        values = d.get(part) or {}
        if not isinstance(values, dict) or not all(
            isinstance(v, list) and v for v in values.values()
        ):
            raise ValueError(f"{source}: {part} must map axes to non-empty lists of values")
        axes[part] = values
    lengths = {len(v) for v in axes["zip"].values()}
    if len(lengths) > 1:
        raise ValueError(f"{source}: zip axes must have one length, got {sorted(lengths)}")
    batch, retries = d.get("batch", BATCH), d.get("retries", 1)
    if not (isinstance(batch, int) and batch >= 1 and isinstance(retries, int) and retries >= 0):
        raise ValueError(f"{source}: batch must be an integer >= 1 and retries >= 0")
    task_size = d.get("task_size")
    if task_size is not None and not (isinstance(task_size, int) and task_size >= 1):
        raise ValueError(f"{source}: task_size must be an integer >= 1")
    config = SweepConfig(base, axes["grid"], axes["zip"], batch, retries,
                         bool(d.get("save_estimates", False)), task_size)  # fmt: skip
    check_count(config, source)
    check_axes(config)
    return config


def check_count(config: SweepConfig, source: str = "config") -> None:
    """Refuse, before any fit is made, a config of more than :data:`MAX_FITS` fits."""
    count = config.count()
    if count <= MAX_FITS:
        return
    sizes = {a: len(v) for a, v in config.grid.items()}
    if config.zip:
        sizes["zip rows"] = len(next(iter(config.zip.values())))
    shown = " × ".join(f"{n} ({a})" for a, n in sizes.items())
    largest = max(config.grid, key=lambda a: len(config.grid[a]), default="a zip axis")
    raise ValueError(
        f"{source}: {count} fits ({shown}) are more than one sweep plans in memory (at most "
        f"{MAX_FITS}); split it into several sweeps, e.g. one config and folder per part "
        f"of {largest}"
    )


def check_axes(config: SweepConfig) -> None:
    """Make a fit of each axis value (the other axes at their first value, so that every
    fit made is one of the sweep's): a bad value stops here with one line naming it,
    without expanding the whole grid (:meth:`SweepConfig.fits` checks every fit)."""
    first = {a: v[0] for a, v in config.grid.items()}
    rows = list(zip(*config.zip.values(), strict=True)) if config.zip else [()]
    maker = FitMaker(config.base)
    for row in rows:
        maker({**first, **dict(zip(config.zip, row, strict=True))})
    for axis, values in config.grid.items():
        if axis == "seed":  # a seed changes no shape: checked as a root seed, no fit made
            for value in values:
                try:
                    check_root(value)
                except ValueError as exc:
                    raise ValueError(f"sweep fit (seed={value!r}): {exc}") from None
            continue
        for value in values:
            maker({**first, axis: value, **dict(zip(config.zip, rows[0], strict=True))})


def load(path: Path) -> SweepConfig:
    """Read and validate a YAML sweep config."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when built with it
    try:
        d = yaml.load(Path(path).read_text(), Loader=loader)
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse(d, str(path))
