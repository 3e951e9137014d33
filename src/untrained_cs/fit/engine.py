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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..defaults import ADAM_LR
from ..generators.base import Generator
from ..operators.base import Operator
from .inputs import check_inputs, on_device, resolve_device, squared_norms
from .loop import FINISHED, Callback, run_until
from .members import COMPACT_AT, restrict, set_rates, sync, whole_batch
from .optim import OPTIMIZERS
from .result import (
    EARLY_LOGS,
    FitDivergedError,
    FitInterrupted,
    FitResult,
    oracle_best,
    psnr_from_mse,
)
from .selection import Holdout, NoisyStop, discrepancy_floor, holdout_entries
from .state import FitState
from .step_size import gd_step_size
from .stopping import CONVERGED_REASONS, StopRule, StopState

#: one learning rate for every member, or one per member
LearningRate = float | Sequence[float] | torch.Tensor | None

__all__ = [
    "ADAM_LR",
    "EARLY_LOGS",
    "continue_fit",
    "finish",
    "fit",
    "init_state",
    "resolve_device",
    "settle_rule",
    "squared_norms",
]


def settle_rule(
    rule: StopRule | None, optimizer: str, overrides: dict[str, Any] | None = None
) -> StopRule:
    """A validated copy of ``rule`` with ``overrides`` applied; GD gets ``plateau=False``.

    Args:
        rule: the caller's rule (never modified); None for the defaults.
        optimizer: ``"gd"`` (the paper's algorithm: a constant step) or ``"adam"``.
        overrides: rule fields to change (``max_iters=…, tol=…``).

    Returns:
        the rule the fit uses.

    Raises:
        TypeError: on an unknown field; ValueError: on invalid settings.
    """
    overrides = dict(overrides or {})
    names = {f.name for f in dataclasses.fields(StopRule)}
    for key in overrides:
        if key not in names:
            raise TypeError(f"fit() got an unknown setting {key!r}")
    settled = dataclasses.replace(rule or StopRule(), **overrides)
    settled.validate()
    if optimizer == "gd":
        settled = dataclasses.replace(settled, plateau=False)
    return settled


def init_state(
    generator: Generator,
    operator: Operator,
    y: torch.Tensor,
    *,
    truth: torch.Tensor | None = None,
    optimizer: str = "adam",
    lr: LearningRate = None,
    rule: StopRule | None = None,
    device: str | torch.device = "auto",
    max_restarts: int = 8,
    error: Callable[[torch.Tensor], torch.Tensor] | None = None,
    stop: NoisyStop | None = None,
    compact: bool = True,
    cap: int | None = None,
    **rule_overrides: Any,
) -> FitState:
    """Build the state of a fit at iteration 0 (arguments as for :func:`fit`).

    The generator is deep-copied (then ``prepare``-d), the operator copied only to move.

    Returns:
        a :class:`FitState` ready for :func:`~untrained_cs.fit.loop.run_until`.

    Raises:
        ValueError: on mismatched shapes, non-finite y, or non-positive settings.
    """
    settled = settle_rule(rule, optimizer, rule_overrides)
    if cap is not None and cap < 1:
        raise ValueError(f"cap must be >= 1, got {cap}")
    if cap is not None and not compact:
        raise ValueError("a fit with a queue (cap) drops stopped members: it needs compact=True")
    queue = cap if cap is not None and cap < generator.batch else None  # None: no queue
    if queue is not None and stop is not None and stop.rule == "holdout":
        raise ValueError("a fit with a queue (cap) cannot use the hold-out rule")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    if lr is not None and not bool(np.all(np.asarray(lr, dtype=np.float64) > 0)):
        raise ValueError(f"lr must be > 0, got {lr}")
    y, truth = check_inputs(generator, operator, y, truth)
    dev = resolve_device(device)
    gen, op = copy.deepcopy(generator).to(dev), on_device(operator, dev)
    y, truth = y.to(dev), (truth.to(dev) if truth is not None else None)
    gen.prepare(y, op)
    lr_np = _initial_lr(gen, op, optimizer, lr)
    params = [p for p in gen.parameters() if p.requires_grad]
    opt = OPTIMIZERS[optimizer](params, torch.as_tensor(lr_np, device=dev))
    floor = settled.loss_floor * 0.5 * squared_norms(y).detach().cpu().double().numpy()
    floor, floor_reason, holdout = _noisy_stop(stop or NoisyStop(), op, y, floor, gen.batch)
    keep, held = (None, None) if holdout is None else (holdout.keep, holdout.held)
    state = FitState(
        generator=gen,
        operator=op,
        y=y,
        truth=truth,
        opt=opt,
        stop=StopState(settled, floor=floor, lr0=lr_np.copy(), floor_reason=floor_reason),
        lr_np=lr_np,
        restarts=np.zeros(gen.batch, dtype=np.int64),
        log={"iteration": [], "loss": [], "lr": [], "mse": [], "compute_batch": []},
        iteration=0,
        seconds=0.0,
        rng_state=torch.get_rng_state(),
        optimizer=optimizer,
        max_restarts=max_restarts,
        device=dev,
        work=whole_batch(gen, op, y, truth, opt, opt.snapshot(), keep, held),
        compact_at=COMPACT_AT if compact else 0.0,
        error=error,
        holdout=holdout,
    )
    if queue is not None:
        state.cap = int(queue)
        state.stop.enqueue(np.arange(queue, gen.batch))
        restrict(state, np.arange(queue))
    set_rates(state)
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
        held = holdout_entries(op, y, stop.fraction, stop.seed, stop.candidates).to(y.device)
        holdout = Holdout(held, stop.patience)
        holdout.start(batch)
        return floor, "loss_floor", holdout
    return floor, "loss_floor", None


def _initial_lr(gen: Generator, op: Operator, optimizer: str, lr: LearningRate) -> np.ndarray:
    """Per-member starting rates (float64 [B]): ``lr`` (one, or one per member), else Adam's
    default or GD's 1/L."""
    if lr is not None:
        given = torch.as_tensor(lr, dtype=torch.float64).reshape(-1)
        lr_b = given.expand(gen.batch).clone() if given.numel() == 1 else given
    elif optimizer == "gd":
        lr_b = gd_step_size(gen, op)
    else:
        lr_b = torch.full((gen.batch,), ADAM_LR, dtype=torch.float64)
    return lr_b.detach().cpu().double().numpy()


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
            "optimizer": state.optimizer,
            "lr": [float(v) for v in stop.lr0],
            "rule": dict(vars(state.rule)),
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
    truth: torch.Tensor | None = None,
    optimizer: str = "adam",
    lr: LearningRate = None,
    rule: StopRule | None = None,
    device: str | torch.device = "auto",
    callback: Callback | None = None,
    max_restarts: int = 8,
    error: Callable[[torch.Tensor], torch.Tensor] | None = None,
    stop: NoisyStop | None = None,
    compact: bool = True,
    cap: int | None = None,
    **rule_overrides: Any,
) -> FitResult:
    """Fit the generator to the measurements ``y`` of ``operator`` until convergence.

    Args:
        generator: a :class:`~untrained_cs.generators.Generator` with ``batch`` members;
            it is copied, never modified or moved.
        operator: the measurement operator A (input shape = the generator's output shape);
            copied only when it has to move to ``device``.
        y: measurements ``[B, *out_shape]`` (or one problem ``[*out_shape]``).
        truth: optional ground truth ``[B, *signal]``: logs the true MSE/PSNR and the
            oracle-best iteration (it never influences the fit).
        optimizer: ``"adam"`` (published practice) or ``"gd"`` (plain gradient descent).
        lr: learning rate / step; default 0.005 for Adam and 1/L for GD, with L the
            Lipschitz estimate ||A||² ||J_G||² at the initialisation.
        rule: the stopping rule (copied); keyword overrides (``max_iters=…, tol=…``) apply
            to the copy.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``.
        callback: called with a record (iteration, loss, psnr, lr, active, members,
            output, generator) at every check and at the early logged iterations
            (``EARLY_LOGS`` below ``check_every``); see :func:`~untrained_cs.fit.loop.run_until`.
        max_restarts: divergences undone (step halved each time) before giving up.
        error: optional scorer, generator output → per-member MSE (normalised by the data
            range²) in the truth's own space (e.g. an MRI magnitude): logged as ``mse``.
        stop: for noisy data, a rule that needs no truth (:class:`NoisyStop`: hold-out
            selection or the discrepancy principle); default: the convergence rule only.
        compact: drop stopped members from the computation (see
            :mod:`~untrained_cs.fit.members`); False keeps them in the batch, frozen.
        cap: compute at most this many members at once; the others wait in a queue and
            start, in member order, as places free up (each counts its iterations from its
            own start). Needs an operator that can be split by member and no hold-out.

    Returns:
        A :class:`FitResult`; ``result.generator`` is the fitted copy of the generator.

    Raises:
        ValueError: on mismatched shapes, non-finite y, or non-positive settings.
        FitDivergedError: when a member keeps diverging after ``max_restarts`` reductions.
    """
    state = init_state(
        generator,
        operator,
        y,
        truth=truth,
        optimizer=optimizer,
        lr=lr,
        rule=rule,
        device=device,
        max_restarts=max_restarts,
        error=error,
        stop=stop,
        compact=compact,
        cap=cap,
        **rule_overrides,
    )
    run_until(state, callback=callback)
    return finish(state)
