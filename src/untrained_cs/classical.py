"""A classical solver as a method of the pipeline: zero-filling, the minimum-norm solution,
ℓ1-wavelet and TV on the problem's own operator, scored like a generator fit
(:func:`~untrained_cs.pipeline.run` dispatches here for a :class:`~untrained_cs.methods.
Solver`)."""

from __future__ import annotations

import time

import torch

from .methods import Solver
from .metrics import scores
from .problems import Problem, derive_seed, spec_hash
from .record import Record


def run_solver(problem: Problem, method: Solver, *, device: str | torch.device = "auto") -> Record:
    """:func:`~untrained_cs.pipeline.run` for a classical solver (its weight chosen by
    ``method.weight_choice``).

    ``zero_filled`` is Aᵀ y in the truth's space unless the problem has its own
    (:meth:`Problem.zero_filled`: for MRI the RSS of the zero-filled coil images); the
    others run on the problem's own operator (:mod:`untrained_cs.solvers`), on its weight
    grid (:attr:`Problem.baseline_grid`).
    """
    from .fit.inputs import on_device, resolve_device
    from .solvers import run_baselines, truth_score

    start = time.perf_counter()
    dev = resolve_device(device)
    if method.name == "zero_filled":
        estimate, weight, choice = _zero_filled(problem, dev), None, None
    else:
        oracle = method.weight_choice == "oracle"
        if oracle and problem.truth is None:
            raise ValueError(
                f"{method.name}: the oracle weight needs the ground truth; choose the weight "
                "by hold-out (--weight-choice holdout) or give the truth"
            )
        operator = on_device(problem.operator, dev)
        result = run_baselines(
            operator,
            problem.y.to(dev),
            (method.name,),
            to_image=lambda x: problem.to_image(x).cpu(),
            score=truth_score(problem.truth[None], problem.data_range)
            if oracle and problem.truth is not None
            else None,
            weight_choice=method.weight_choice,
            noise_std=problem.noise_std or None,
            grid=problem.baseline_grid,
            options=problem.baseline_options,
            seed=derive_seed(problem.spec.seed, "holdout"),
        )[method.name]
        estimate, weight, choice = result.image[0], result.weight, result.weight_choice
    metrics = {
        **scores(estimate, problem.truth, problem.data_range),
        "seconds": round(time.perf_counter() - start, 3),
        "device": str(dev),
    }
    return Record(
        problem=problem.spec.to_dict(),
        method=method.to_dict(),
        key=spec_hash(problem.spec, method),
        estimate=estimate.cpu(),
        metrics=metrics,
        extra={"weight": weight, "weight_choice": choice},
    )


def _zero_filled(problem: Problem, dev: torch.device) -> torch.Tensor:
    """The problem's own zero-filled estimate, else Aᵀ y on ``dev`` in the truth's space."""
    from .fit.inputs import on_device

    estimate = problem.zero_filled()
    if estimate is not None:
        return estimate
    with torch.no_grad():
        x = on_device(problem.operator, dev).adjoint(problem.y.to(dev))
    return problem.to_image(x).cpu()[0]
