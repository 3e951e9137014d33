"""Sweep configs: a base problem and method, axes to vary (grid and zip), checked up front.

A config (YAML) names a ``base`` problem spec and method spec (the dict forms of
:class:`~untrained_cs.problems.ProblemSpec` and :mod:`untrained_cs.methods`), then
``grid`` (every combination of its axes) and ``zip`` (axes of one length, varied together);
an axis is ``seed``, ``signal.<field>``, ``measurement.<field>`` or ``method.<field>``.
Every fit is validated while the list is expanded, so a bad value stops the sweep before
anything runs, with one line naming the axis and value.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..methods import GeneratorFit, method_from_dict
from ..problems import ProblemSpec, spec_hash

KEYS = ("base", "grid", "zip", "batch", "task_size", "retries", "save_estimates")
#: members computed at once in a batched task when the config names none
BATCH = 32
#: fits of one task, in multiples of ``batch``, when the config names no ``task_size``:
#: they queue for the batch's places, so that a finished fit's place goes to the next
#: (batched dense-operator fits without a hold-out; others keep tasks of one batch)
TASK_BATCHES = 4


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

    @property
    def fits_per_task(self) -> int:
        return self.task_size or TASK_BATCHES * self.batch

    def fits(self) -> list[Fit]:
        """Every fit of the sweep, in a stable order (grid product, then zip rows)."""
        grid_axes = list(self.grid)
        zip_axes = list(self.zip)
        rows = list(zip(*self.zip.values(), strict=True)) if zip_axes else [()]
        out: list[Fit] = []
        seen: set[str] = set()
        for combo in itertools.product(*self.grid.values()):
            for row in rows:
                changes = dict(zip(grid_axes, combo, strict=True))
                changes.update(zip(zip_axes, row, strict=True))
                f = make_fit(self.base, changes)
                if f.key not in seen:
                    seen.add(f.key)
                    out.append(f)
        return out


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
    config.fits()  # validate every fit now, before anything runs
    return config


def load(path: Path) -> SweepConfig:
    """Read and validate a YAML sweep config."""
    import yaml

    try:
        d = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse(d, str(path))
