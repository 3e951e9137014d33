"""A sweep's plan before it runs: its fits and tasks, counted from the axes, and the time it
may take, from timed probes, in about a second whatever the size of the grid.

Fits that differ only in their seed fall in one group (the seed is never part of a task's
shape), so the groups are found by making one fit per combination of the other axes, the
seed pinned to its first value; each group's tasks are cut as :func:`~.run.plan` cuts them.
When even those combinations are too many to make within the time allowed, the counts are
extrapolated from those made (and the outline says so). Each group is then probed — a few
steps of its largest fit, scaled by the iteration cap — the most numerous first, as long as
time is left; groups left unprobed take the probed groups' mean time per fit. The prober is
passed in (the command line passes :func:`untrained_cs.experiments.probe.probe_fit`: the
experiments use sweeps, so sweeps do not import them).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..methods import GeneratorFit
from ..problems import ProblemSpec
from ..resources import DENSE_BYTES
from .config import Fit, FitMaker, SweepConfig
from .run import fits_per_task, m_of, shape_key

#: seconds the outline may take: half for counting the groups, half for probing them (at
#: least one group is probed, however long that takes)
BUDGET = 1.0
#: the most members a probe computes at once (scaled linearly to the batch)
PROBE_MEMBERS = 4
#: (spec, method, members) → (expected seconds, peak bytes) of fitting ``members`` such
#: problems at once, or ValueError for a problem it does not time
Prober = Callable[[ProblemSpec, GeneratorFit, int], tuple[float, int]]


@dataclass
class _Group:
    """The fits of one task shape: how many, and the one of largest m (sizes its tasks)."""

    count: int
    largest: Fit


@dataclass(frozen=True)
class Outline:
    """What a sweep holds, before any fit is expanded beyond its groups.

    Attributes:
        fits: the fits its axes name (:meth:`SweepConfig.count`).
        tasks: the tasks they are cut into (for ``slots`` executor slots).
        shapes: the groups of fits that share a task's shape.
        sampled: the counts were extrapolated from part of the combinations (``share``
            of them).
        seconds: the estimated time, one task at a time on this machine's CPU, every
            fit running to its iteration cap (an upper bound); None before
            :func:`estimate`, or when no group could be probed.
        probed: the groups probed.
    """

    fits: int
    tasks: int
    shapes: int
    sampled: bool
    seconds: float | None = None
    probed: int = 0
    share: float = 1.0
    groups: dict[str, _Group] = field(default_factory=dict, repr=False, compare=False)
    sizes: dict[str, int] = field(default_factory=dict, repr=False, compare=False)


def outline(
    config: SweepConfig,
    slots: int = 1,
    budget: float = BUDGET / 2,
    clock: Callable[[], float] = time.perf_counter,
) -> Outline:
    """The fits, tasks and groups of ``config``'s sweep (no time yet: :func:`estimate`);
    a bad fit met while the groups are made raises its one-line ValueError."""
    groups, share = _groups(config, clock() + budget, clock)
    sizes = {k: fits_per_task(g.count, g.largest, config.batch, config.fits_per_task, slots)
             for k, g in groups.items()}  # fmt: skip
    tasks = sum(-(-g.count // sizes[k]) for k, g in groups.items())
    return Outline(config.count(), round(tasks / share), round(len(groups) / share),
                   share < 1.0, share=share, groups=groups, sizes=sizes)  # fmt: skip


def estimate(
    config: SweepConfig,
    counted: Outline,
    probe: Prober,
    budget: float = BUDGET / 2,
    clock: Callable[[], float] = time.perf_counter,
) -> Outline:
    """``counted`` with the time its fits may take, from ``probe`` of its groups."""
    deadline = clock() + budget
    seconds, probed = _probe(config, counted, probe, deadline, clock)
    if seconds is not None:
        seconds /= counted.share
    return replace(counted, seconds=seconds, probed=probed)


def _groups(
    config: SweepConfig, deadline: float, clock: Callable[[], float]
) -> tuple[dict[str, _Group], float]:
    """The groups of the fits (by task shape) and the share of the combinations made."""
    seeds = config.grid.get("seed")
    pinned = {"seed": seeds[0]} if seeds else {}
    each = len(seeds) if seeds else 1
    total = max(config.count() // each, 1)
    maker, made = FitMaker(config.base), 0
    groups: dict[str, _Group] = {}
    for changes in config.changes(pinned):
        f = maker(changes)
        g = groups.setdefault(shape_key(f), _Group(0, f))
        g.count += each
        if m_of(f) > m_of(g.largest):
            g.largest = f
        made += 1
        if made < total and clock() > deadline:
            break
    return groups, made / total


def _probe(
    config: SweepConfig,
    counted: Outline,
    probe: Prober,
    deadline: float,
    clock: Callable[[], float],
) -> tuple[float | None, int]:
    """Seconds of every group (probed, the most numerous first, while time is left; the
    rest at the probed mean per fit) and how many were probed."""
    groups = counted.groups
    probed: dict[str, float] = {}
    for key in sorted(groups, key=lambda k: -groups[k].count):
        if probed and clock() > deadline:
            break
        g, size = groups[key], counted.sizes[key]
        dense = getattr(g.largest.problem.measurement, "operator", None) in DENSE_BYTES
        at_once = min(config.batch, size) if dense else 1
        members = min(at_once, PROBE_MEMBERS)
        try:
            seconds, _ = probe(g.largest.problem, g.largest.method, members)
        except ValueError:  # a problem the probe does not time (MRI)
            continue
        full, rest = divmod(g.count, size)
        rounds = full * math.ceil(size / at_once) + math.ceil(rest / at_once)
        probed[key] = seconds * at_once / members * rounds
    if not probed:
        return None, 0
    per_fit = sum(probed.values()) / sum(groups[k].count for k in probed)
    others = sum(g.count for k, g in groups.items() if k not in probed)
    return sum(probed.values()) + per_fit * others, len(probed)
