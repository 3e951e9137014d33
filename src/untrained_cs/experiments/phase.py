"""The phase transition behind "recovery once m ≳ p": p-smooth signals over a grid of m × p.

Section 4 argues that a p-smooth x* (energy on the p lowest trigonometric functions) is
recovered from m Gaussian measurements once m is a small multiple of p. This experiment
fits every (generator, p, m, seed) of a grid as the sweep engine does (fits that share
their shapes packed into batched tasks, :func:`~untrained_cs.sweeps.plan`) and reports the
success rate (relative error below a threshold) per (p, m) and the smallest m reaching it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..problems import CSMeasurement, ProblemSpec, SmoothSignal
from ..sweeps import parse, plan, run_task
from .claims import Claim, Cost, check
from .experiment import Experiment, check_fields, setting

TITLE = "Phase transition: recovery of p-smooth signals once m ≳ p"


@dataclass(frozen=True)
class PhaseSettings:
    """One scale of ``reproduce phase``; each field's source in its metadata."""

    n: int = setting(256, "signal length", "the phase-transition sweep of "
                     "examples/phase-transition.yaml", low=1)  # fmt: skip
    ps: tuple[int, ...] = setting((4, 8, 16, 32), "smoothness values p", low=1)
    multiples: tuple[float, ...] = setting((0.5, 1, 2, 4, 8), "m as multiples of p (p/2 to 8p)",
                                           low=0.0, open_low=True)  # fmt: skip
    seeds: int = setting(5, "root seeds per (p, m)", low=1)
    generators: tuple[str, ...] = setting(
        ("two-layer", "deep-decoder"), "the generators fitted",
        "Section 4's two-layer ReLU(UC)v (plain GD) and a 1D deep decoder (Adam)",
    )  # fmt: skip
    two_layer_width: float = setting(
        16.0, "the two-layer generator's triangular half-width, n/16",
        "this project's choice: Figure 3, 'the wider the kernel, the more the weights are "
        "concentrated towards the low frequencies'; the generator's default half-width 4 "
        "needs m close to n at n = 256", low=0.0, open_low=True,
    )  # fmt: skip
    max_iters: int = setting(3000, "iteration cap of each fit", low=1)
    threshold: float = setting(0.1, "success: relative error ‖x̂ − x*‖/‖x*‖ below this",
                               low=0.0, open_low=True)  # fmt: skip
    c_max: float = setting(4.0, "'m ≳ p': recovery (success rate >= 1/2) holds when it starts "
                           "by m = c_max · p", low=0.0, open_low=True)  # fmt: skip
    batch: int = setting(64, "members per batched task", low=1)

    def __post_init__(self) -> None:
        check_fields(self)


SETTINGS = {
    "smoke": PhaseSettings(
        n=64, ps=(2, 4), multiples=(1, 4), seeds=2, two_layer_width=4.0, max_iters=150
    ),  # fmt: skip
    "cpu": PhaseSettings(max_iters=2000),
    "paper": PhaseSettings(),
}


def config(settings: PhaseSettings, generator: str, seed: int = 0) -> dict[str, Any]:
    """The sweep config (as loaded YAML) of one generator's grid."""
    pairs = sorted({(p, max(1, min(settings.n, round(c * p))))
                    for p in settings.ps for c in settings.multiples})  # fmt: skip
    method: dict[str, Any] = {"kind": "generator", "generator": generator,
                              "max_iters": settings.max_iters}  # fmt: skip
    if generator == "two-layer":
        method.update(optimizer="gd", kernel_width=settings.two_layer_width)
    return {
        "base": {
            "problem": {"signal": {"kind": "smooth", "n": settings.n, "p": settings.ps[0]},
                        "measurement": {"kind": "cs", "operator": "gaussian", "m": pairs[0][1]}},
            "method": method,
        },
        "grid": {"seed": [seed + s for s in range(settings.seeds)]},
        "zip": {"signal.p": [p for p, _ in pairs], "measurement.m": [m for _, m in pairs]},
        "batch": settings.batch,
    }  # fmt: skip


def data(settings: PhaseSettings, seed: int = 0) -> dict[str, Any]:
    """Relative errors of every fit, and the success rate per (generator, p, m)."""
    rows: list[dict[str, Any]] = []
    for generator in settings.generators:
        fits = parse(config(settings, generator, seed), f"phase {generator}").fits()
        for task in plan(fits, settings.batch):
            for fit, record in zip(task.fits, run_task(task), strict=True):
                p, m = p_and_m(fit.problem)
                rows.append({
                    "generator": generator, "p": p, "m": m, "seed": fit.problem.seed,
                    "rel_error": record.metrics["rel_error"],
                    "stop_reason": record.metrics["stop_reason"],
                })  # fmt: skip
    return {"n": settings.n, "threshold": settings.threshold, "c_max": settings.c_max,
            "rows": rows, "cells": cells(rows, settings.threshold)}  # fmt: skip


def p_and_m(spec: ProblemSpec) -> tuple[int, int]:
    """The smoothness p and measurement count m of one of this experiment's specs."""
    signal, meas = spec.signal, spec.measurement
    assert isinstance(signal, SmoothSignal) and isinstance(meas, CSMeasurement) and meas.m
    return signal.p, meas.m


def cells(rows: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    """Per (generator, p, m): the success rate and the median relative error over seeds."""
    groups: dict[tuple, list[float]] = {}
    for r in rows:
        groups.setdefault((r["generator"], r["p"], r["m"]), []).append(r["rel_error"])
    return [{"generator": g, "p": p, "m": m, "median": float(np.median(e)),
             "success": float(np.mean(np.asarray(e) < threshold))}
            for (g, p, m), e in sorted(groups.items())]  # fmt: skip


def onset(cells_: list[dict[str, Any]], generator: str, p: int) -> int | None:
    """The smallest m from which every larger m of the grid succeeds at rate >= 1/2."""
    row = sorted((c["m"], c["success"]) for c in cells_ if c["generator"] == generator
                 and c["p"] == p)  # fmt: skip
    first = None
    for m, rate in row:
        if rate >= 0.5:
            first = m if first is None else first
        else:
            first = None
    return first


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    """The phase diagram in ``folder``."""
    from ..plots.phase import heatmaps

    heatmaps(folder / "phase.png", data)
    return ["phase.png"]


def claims(data: dict[str, Any]) -> list[Claim]:
    """Per generator: recovery once m ≳ p, the onset growing with p."""
    rows = []
    cs = data["cells"]
    for generator in dict.fromkeys(c["generator"] for c in cs):
        ps = sorted({c["p"] for c in cs if c["generator"] == generator})
        starts = {p: onset(cs, generator, p) for p in ps}
        ratios = [starts[p] / p if starts[p] else float("inf") for p in ps]
        shown = ", ".join(f"p={p}: m={starts[p] or 'none'}" for p in ps)
        grows = all(
            (starts[a] or 1e9) <= (starts[b] or 1e9) for a, b in zip(ps, ps[1:], strict=False)
        )
        worst = max(ratios)
        rows.append(check(
            f"{generator}: a p-smooth signal is recovered once m ≳ p (largest onset m / p)",
            worst if np.isfinite(worst) else "no onset in the grid",
            worst <= data["c_max"] and grows,
            f"success rate >= 1/2 (relative error < {data['threshold']:g}) from {shown}; holds "
            f"when m/p <= {data['c_max']:g} for every p and the onset grows with p",
        ))  # fmt: skip
    return rows


def cost(settings: PhaseSettings) -> Cost:
    """Timed probes of every batched task (its largest fit), times the iteration cap."""
    from .probe import probe_fits

    # each task's largest m (its last fit: plan sorts by m), to which its members are padded
    tasks = [
        t
        for g in settings.generators
        for t in plan(parse(config(settings, g), "phase").fits(), settings.batch)
    ]
    seconds, peak = probe_fits((t.fits[-1].problem, t.fits[-1].method, len(t.fits))
                               for t in tasks)  # fmt: skip
    return Cost(seconds, peak, "timed steps of each batched task, times the iteration cap")


EXPERIMENT = Experiment(TITLE, PhaseSettings, SETTINGS, data, plot, claims, cost)
