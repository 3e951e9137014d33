"""The loop that advances a :class:`~untrained_cs.fit.state.FitState`, one iteration at a time.

B independent members are fitted in one loop of batched tensor work. The host reads values
back only every ``check_every`` iterations, where the stopping rule, the plateau cut of the
learning rate (:mod:`~untrained_cs.fit.schedule`), divergence handling, logging and the
progress callback run, and at the few early-log
iterations before the first check (:func:`~.result.early_logs`), which only log and score
the hold-out entries (so that log-axis curves show a fit's start, and an early best iterate
is not missed). The loop stops only between iterations, where the state is complete. The
passes run on the compute batch ``state.work``, from which stopped members are dropped
after a check (:func:`~untrained_cs.fit.members.maybe_compact`), and queued members join it
at a check (:func:`~untrained_cs.fit.members.admit_queued`); the logs stay full-size
``[B]``, a stopped member's entries repeating its values at the stop (and a member's
entries at a row logged for another's early iterations repeating its last own row).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .compiled import forward_pass
from .inputs import squared_norms
from .members import admit_queued, is_full, maybe_compact, scatter_rows, spread
from .result import FitDivergedError, early_logs, psnr_from_mse
from .state import FitState

FINISHED, PAUSED, INTERRUPTED = "finished", "paused", "interrupted"

Callback = Callable[[dict[str, Any]], None]


def run_until(
    state: FitState,
    *,
    max_iteration: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_check: Callable[[FitState], None] | None = None,
    callback: Callback | None = None,
) -> str:
    """Advance ``state`` until every member stops, an iteration count, or a stop request.

    Args:
        state: the fit to advance (modified in place).
        max_iteration: pause once ``state.iteration`` reaches this count (before running
            that iteration), so that a fit can be stopped at iteration k exactly.
        should_stop: a cheap zero-argument callable polled before every iteration; True
            interrupts the loop there (signal handlers set the flag it reads).
        on_check: called with the state after each stopping-rule check, at the next point
            between iterations (after that iteration's step), where saving it is safe;
            its time is not counted in ``state.seconds``.
        callback: called with a progress record at every check and early log:
            ``iteration``, ``loss``, ``lr`` [B], ``active`` and ``queued`` (counts; the
            other members have stopped), ``psnr`` [B] when the
            truth is known, ``members`` (the members computed, [b] indices), ``output``
            (their G(θ) at that iteration, detached, one row per member listed) and
            ``generator`` (the compute batch's generator; read it, never modify it).

    Returns:
        ``"finished"`` (all members stopped), ``"paused"`` (``max_iteration`` reached) or
        ``"interrupted"`` (``should_stop()`` returned True).

    Raises:
        FitDivergedError: when a member keeps diverging after ``max_restarts`` reductions.
    """
    clock = time.perf_counter()
    try:
        while True:
            if state.finished:
                return FINISHED
            if max_iteration is not None and state.iteration >= max_iteration:
                return PAUSED
            if should_stop is not None and should_stop():
                return INTERRUPTED
            if _advance(state, callback) and on_check is not None:
                _account(state, clock)
                on_check(state)
                clock = time.perf_counter()
    finally:
        if state.device.type == "cuda":
            torch.cuda.synchronize(state.device)
        _account(state, clock)


def _account(state: FitState, clock: float) -> None:
    """Add the time since ``clock`` to the state; record the CPU RNG state."""
    state.seconds += time.perf_counter() - clock
    state.rng_state = torch.get_rng_state()


def _advance(state: FitState, callback: Callback | None) -> bool:
    """Run one iteration (or undo a divergence); return whether a check ran."""
    rule, it, starts = state.settings.rule, state.iteration, state.stop.starts
    if it % rule.check_every == 0 and state.settings.cap is not None:
        admitted = admit_queued(state, state.settings.cap)
        if len(admitted):
            state.rates.admit(admitted)
            state.rates.apply(state)
        starts = state.stop.starts
    w = state.work
    out, residual, loss_b = forward_pass(
        w.generator, w.operator, w.y, w.keep, w.tv, compile=state.settings.compile
    )
    checked = it % rule.check_every == 0 or any(it - s >= rule.max_iters for s in starts)
    logs = early_logs(rule.check_every)
    early = not checked and any(it - s in logs for s in starts)
    if checked:
        if _check(state, loss_b, residual, out, callback):
            return True
    elif early:
        _early_log(state, loss_b, residual, out, callback)
    schedule = state.rates.schedule
    if not checked and any(schedule.lr_factor_changes(it - s) for s in starts):
        state.rates.apply(state)  # warm-up or halving of the schedule
    grads = torch.autograd.grad(loss_b.sum(), w.opt.params)
    w.opt.step(list(grads))
    state.iteration += 1
    # the only points where members stop
    if (checked or early) and maybe_compact(state, state.settings.compact_at):
        state.rates.apply(state)
    return checked


def _check(
    state: FitState,
    loss_b: torch.Tensor,
    residual: torch.Tensor,
    out: torch.Tensor,
    callback: Callback | None,
) -> bool:
    """The check at this iteration: divergence, logging, hold-out, the plateau cut and the
    stopping rule. Returns whether the iteration ends here (a divergence was undone, to
    run it again, or every member has stopped)."""
    stop, rates, w = state.stop, state.rates, state.work
    loss_np = spread(state, _host(loss_b), _last(state, "loss"))
    if _undo_divergence(state, loss_np):
        return True
    _record(state, loss_np, out)
    if w.held is not None:
        _observe_holdout(state, residual, out)
    if state.settled is not None:
        settle = state.settled.observe(state.iteration, scatter_rows(state, out), stop.active)
        stop.mark_stopped(settle, state.iteration, "settled")
    rates.on_check(loss_np, stop)  # the plateau cut, before this check's stops
    stop.update(state.iteration, loss_np, rates.schedule.annealed(state.iteration - stop.start))
    rates.apply(state)
    w.snapshot = w.opt.snapshot()
    if callback is not None:
        callback(_progress(state, out))
    return state.finished


def _early_log(
    state: FitState,
    loss_b: torch.Tensor,
    residual: torch.Tensor,
    out: torch.Tensor,
    callback: Callback | None,
) -> None:
    """An early log: the members whose own early iteration it is log a row (and score
    the hold-out entries); nothing stops and no rate changes here."""
    w = state.work
    loss_np = spread(state, _host(loss_b), _last(state, "loss"))
    if not np.isfinite(loss_np[w.index]).all():  # a divergence is handled at the next check
        return
    _record(state, loss_np, out, _early_members(state))
    if w.held is not None:  # the best held-out iterate may come this early
        _observe_holdout(state, residual, out)
    if callback is not None:
        callback(_progress(state, out))


def _observe_holdout(state: FitState, residual: torch.Tensor, out: torch.Tensor) -> None:
    """Score the held-out entries; keep the best iterate; stop members past patience."""
    held, w = state.holdout, state.work
    assert held is not None and w.held is not None
    held_loss = spread(state, _host(0.5 * squared_norms(residual.detach() * w.held)), None)
    stop = held.observe(state.iteration, held_loss, out, state.stop.active, w.index)
    state.stop.mark_stopped(stop, state.iteration, "holdout")


def _host(loss_b: torch.Tensor) -> np.ndarray:
    return loss_b.detach().double().cpu().numpy()


def _last(state: FitState, key: str) -> np.ndarray | None:
    """The last logged row of ``key`` (what the members no longer computed repeat)."""
    rows = state.log[key]
    return rows[-1] if rows else None


def _undo_divergence(state: FitState, loss_np: np.ndarray) -> bool:
    """Restore the diverged members to the last snapshot and halve their step.

    Returns:
        whether any member diverged (the iteration is then run again).

    Raises:
        FitDivergedError: after more than ``max_restarts`` divergences of one member.
    """
    bad = state.stop.diverged(loss_np)
    if not bad.any():
        return False
    state.restarts += bad.astype(np.int64)
    if state.restarts.max() > state.settings.max_restarts:
        raise FitDivergedError(
            f"fit diverged {state.restarts.max()} times (loss {loss_np[bad][0]:.3g}); "
            f"the step was halved each time — try a smaller lr"
        )
    w = state.work
    w.opt.restore(w.snapshot, torch.as_tensor(bad[w.index], device=state.device))
    state.rates.halve(bad)
    state.rates.apply(state)
    return True


def _early_members(state: FitState) -> np.ndarray | None:
    """At an early log, the members whose own iteration it is (None: all of them)."""
    if len(state.stop.starts) == 1:
        return None
    every = state.settings.rule.check_every
    return np.isin(state.iteration - state.stop.start, early_logs(every))


def _record(
    state: FitState, loss: np.ndarray, out: torch.Tensor, members: np.ndarray | None = None
) -> None:
    """Log a row; with ``members`` (a mask) only their entries are new, the others
    repeat their last logged values (it is not one of their own log iterations)."""
    log, w, stop = state.log, state.work, state.stop
    lr = state.rates.in_use(state.iteration - stop.start)
    if members is not None:
        loss = np.where(members, loss, log["loss"][-1])
        lr = np.where(members, lr, log["lr"][-1])
    log["iteration"].append(state.iteration)
    log["loss"].append(loss)
    log["lr"].append(lr)
    log["compute_batch"].append(w.size)
    if state.error is None and w.truth is None:
        return
    with torch.no_grad():
        if state.error is not None:  # the scorer takes the full batch (its own truths)
            err = state.error(scatter_rows(state, out.detach())).double().cpu().numpy()
            rows = err if is_full(state) else err[w.index]
        else:
            assert w.truth is not None
            err_t = squared_norms(out.detach() - w.truth) / out[0].numel()
            rows = err_t.double().cpu().numpy()
    mse = spread(state, rows, _last(state, "mse"))
    log["mse"].append(mse if members is None else np.where(members, mse, log["mse"][-1]))


def _progress(state: FitState, out: torch.Tensor) -> dict[str, Any]:
    log = state.log
    rec: dict[str, Any] = {
        "iteration": log["iteration"][-1],
        "loss": log["loss"][-1],
        "lr": log["lr"][-1],
        "active": int(state.stop.active.sum()),
        "queued": int(state.stop.queued.sum()),
        "members": state.work.index.copy(),
        "output": out.detach(),
        "generator": state.work.generator,
    }
    if log["mse"]:
        rec["psnr"] = psnr_from_mse(log["mse"][-1])
    return rec
