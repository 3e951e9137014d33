"""The fit engine: minimise ½||A G(θ) − y||² over θ from a random init, until convergence.

:func:`fit` is three steps: :func:`init_state` builds a :class:`FitState` (on copies of
the caller's modules: they are never moved or modified), :func:`~.loop.run_until` advances
it, :func:`finish` turns it into a :class:`FitResult`. :func:`continue_fit` finishes a
state loaded with :meth:`FitState.load`. Members that stop leave the computation
(:mod:`~untrained_cs.fit.members`), so a batch costs what its active members cost.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Unpack

import numpy as np
import torch

from ..generators.base import Generator
from ..operators.base import Operator
from .inputs import check_inputs, on_device, resolve_device, squared_norms
from .loop import FINISHED, Callback, run_until
from .members import sync
from .result import (
    EARLY_LOGS,
    FitDivergedError,
    FitInterrupted,
    FitResult,
    oracle_best,
    psnr_from_mse,
)
from .schedule import Rates, check_lr, initial_rates
from .selection import Holdout, NoisyStop, Settled, discrepancy_floor, holdout_entries
from .settings import FitOptions, fit_settings
from .state import FitState
from .stopping import CONVERGED_REASONS, StopState

__all__ = [
    "EARLY_LOGS",
    "continue_fit",
    "finish",
    "fit",
    "init_state",
    "resolve_device",
]


def init_state(
    generator: Generator, operator: Operator, y: torch.Tensor, **options: Unpack[FitOptions]
) -> FitState:
    """Build the state of a fit at iteration 0 (arguments as for :func:`fit`).

    The generator is deep-copied (then ``prepare``-d), the operator copied only to move.

    Returns:
        a :class:`FitState` ready for :func:`~untrained_cs.fit.loop.run_until`.

    Raises:
        TypeError: on an unknown keyword.
        ValueError: on mismatched shapes, non-finite y, or non-positive settings.
    """
    settings = fit_settings(options, generator.batch)
    lr = options.get("lr")
    check_lr(lr)
    y, truth = check_inputs(generator, operator, y, options.get("truth"))
    dev = resolve_device(options.get("device", "auto"))
    gen, op = copy.deepcopy(generator).to(dev), on_device(operator, dev)
    y, truth = y.to(dev), (truth.to(dev) if truth is not None else None)
    gen.prepare(y, op)
    rates = Rates(settings.schedule, initial_rates(gen, op, settings.optimizer, lr))
    floor = settings.rule.loss_floor * 0.5 * squared_norms(y).detach().cpu().double().numpy()
    noisy = options.get("stop") or NoisyStop()
    floor, floor_reason, holdout = _noisy_stop(noisy, op, y, floor, gen.batch)
    settled = _settled(noisy, gen.batch, settings.compact_at)
    stop = StopState(settings.rule, floor=floor, floor_reason=floor_reason)
    state = FitState.start(gen, op, y, truth, dev, settings, stop, rates, holdout, settled)
    state.error = options.get("error")
    if settings.cap is not None:
        stop.enqueue(np.arange(settings.cap, gen.batch))
        state.compute(np.arange(settings.cap))
    return state


def _noisy_stop(
    stop: NoisyStop, op: Operator, y: torch.Tensor, floor: np.ndarray, batch: int
) -> tuple[np.ndarray, str, Holdout | None]:
    """The loss floor, its stop reason and the hold-out state that ``stop`` asks for."""
    if stop.rule == "discrepancy":
        return (
            discrepancy_floor(op, y, float(stop.noise_std or 0.0), stop.safety),
            "discrepancy",
            None,
        )
    if stop.rule == "holdout":
        groups = None if stop.groups is None else np.asarray(stop.groups)
        held = holdout_entries(op, y, stop.fraction, stop.seed, stop.candidates, groups)
        held = held.to(y.device)
        holdout = Holdout(held, stop.patience)
        holdout.start(batch)
        return floor, "loss_floor", holdout
    return floor, "loss_floor", None


def _settled(stop: NoisyStop, batch: int, compact_at: float) -> Settled | None:
    """The settled rule's state, when ``stop`` asks for it (groups: one per member unless
    given; a group of several members needs them all computed, so no compaction)."""
    groups = np.arange(batch) if stop.groups is None else np.asarray(stop.groups)
    if len(groups) != batch:
        raise ValueError(f"{len(groups)} member groups for {batch} members")
    if stop.rule != "settled":
        return None
    if compact_at > 0 and len(set(groups.tolist())) < batch:
        raise ValueError("an ensemble's members settle together: fit them with compact=False")
    return Settled(groups, stop.window, stop.tol)


def finish(state: FitState) -> FitResult:
    """The :class:`FitResult` of a state (normally a finished one).

    Members still active (a paused or interrupted state) get the stop reason ``""``.

    Returns:
        the result; ``result.generator`` is the state's working generator (all members)
        at the estimate.

    Raises:
        FitDivergedError: when the estimate is not finite.
    """
    sync(state)
    held = state.holdout
    with torch.no_grad():
        if held is not None and held.output is not None:
            estimate = held.output.detach().cpu()  # the iterate of lowest held-out residual
        else:
            estimate = state.generator().detach().cpu()
    if not bool(torch.isfinite(estimate).all()):
        raise FitDivergedError("the fit produced a non-finite estimate")
    history = {k: np.asarray(v) for k, v in state.log.items() if v}
    if "mse" in history:
        history["psnr"] = psnr_from_mse(history["mse"])
    stop = state.stop
    best = oracle_best(history, stop.start)
    return FitResult(
        estimate=estimate,
        history=history,
        converged=[r in CONVERGED_REASONS for r in stop.reason],
        stop_reason=list(stop.reason),
        stop_iteration=[int(i) for i in stop.stop_iteration],
        best_iteration=best[0] if best else None,
        best_psnr=best[1] if best else None,
        seconds=state.seconds,
        device=str(state.device),
        config={
            "optimizer": state.settings.optimizer,
            "lr": [float(v) for v in state.rates.lr0],
            "rule": dataclasses.asdict(state.settings.rule),
            "schedule": dataclasses.asdict(state.settings.schedule),
        },
        generator=state.generator,
        selected_iteration=None if held is None else [int(i) for i in held.iteration],
        stop_rule="holdout" if held is not None else stop.floor_reason,
        start=[int(s) for s in stop.start] if stop.start.any() else None,
    )


def continue_fit(
    state: FitState,
    *,
    should_stop: Callable[[], bool] | None = None,
    on_check: Callable[[FitState], None] | None = None,
    callback: Callback | None = None,
) -> FitResult:
    """Advance a (loaded) state until every member stops and return its result.

    Args:
        state: e.g. from :meth:`FitState.load`; hooks as for
            :func:`~untrained_cs.fit.loop.run_until`.

    Returns:
        the :class:`FitResult`.

    Raises:
        FitInterrupted: when ``should_stop()`` returned True (``exc.state`` is the state,
            left between iterations, ready to be saved).
        FitDivergedError: when a member keeps diverging after ``max_restarts`` reductions.
    """
    status = run_until(state, should_stop=should_stop, on_check=on_check, callback=callback)
    if status != FINISHED:
        raise FitInterrupted(state, f"fit {status} at iteration {state.iteration}")
    return finish(state)


def fit(
    generator: Generator,
    operator: Operator,
    y: torch.Tensor,
    *,
    callback: Callback | None = None,
    **options: Unpack[FitOptions],
) -> FitResult:
    """Fit the generator to the measurements ``y`` of ``operator`` until convergence.

    Args:
        generator: a :class:`~untrained_cs.generators.Generator` with ``batch`` members;
            it is copied, never modified or moved.
        operator: the measurement operator A (input shape = the generator's output shape);
            copied only when it has to move to ``device``.
        y: measurements ``[B, *out_shape]`` (or one problem ``[*out_shape]``).
        callback: called with a record (iteration, loss, psnr, lr, active, members,
            output, generator) at every check and at the early logged iterations
            (``EARLY_LOGS`` below ``check_every``); see :func:`~untrained_cs.fit.loop.run_until`.
        options: the fit's keywords (:class:`~untrained_cs.fit.settings.FitOptions`):
            ``truth``, ``optimizer`` (``"adam"`` or ``"gd"``), ``lr``, ``rule`` and
            ``schedule`` (and their fields: ``max_iters=…, tol=…, warmup=…``),
            ``device``, ``max_restarts``, ``error``, ``stop``, ``compact``, ``cap``.

    Returns:
        A :class:`FitResult`; ``result.generator`` is the fitted copy of the generator.

    Raises:
        TypeError: on an unknown keyword.
        ValueError: on mismatched shapes, non-finite y, or non-positive settings.
        FitDivergedError: when a member keeps diverging after ``max_restarts`` reductions.
    """
    state = init_state(generator, operator, y, **options)
    run_until(state, callback=callback)
    return finish(state)
