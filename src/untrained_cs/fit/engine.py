"""The fit engine: minimise ½||A G(θ) − y||² over θ from a random init, until convergence.

B independent members (the generator's batch; the operator's draws when it holds several)
are fitted in one loop of batched tensor work. The host reads values back only every
``check_every`` iterations, where the stopping rule, the plateau schedule, divergence
handling, logging and the progress callback run, and at the few ``EARLY_LOGS`` iterations
before the first check, which only log (so that log-axis curves show a fit's start).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..generators.base import Generator
from ..operators.base import Operator
from .optim import OPTIMIZERS
from .result import FitDivergedError, FitResult, oracle_best, psnr_from_mse
from .step_size import gd_step_size
from .stopping import StopRule, StopState

ADAM_LR = 0.005
# Iterations logged before the first check (those below ``check_every``), so that the
# log-axis curves show the start of a fit; history only, the stopping rule never sees them.
EARLY_LOGS = (1, 2, 5, 10, 20)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cuda"`` without CUDA is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but CUDA is not available here")
    return dev


def squared_norms(r: torch.Tensor) -> torch.Tensor:
    """||r_b||² per member of a real or complex batch."""
    sq = r.real.square() + r.imag.square() if r.is_complex() else r.square()
    return sq.reshape(r.shape[0], -1).sum(dim=1)


def _check_inputs(
    generator: Generator, operator: Operator, y: torch.Tensor, truth: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    gen_shape = tuple(generator.out_shape)
    if gen_shape != tuple(operator.in_shape):
        raise ValueError(
            f"{type(operator).__name__} expects signals of shape {list(operator.in_shape)}, "
            f"but {type(generator).__name__} produces {list(gen_shape)}"
        )
    batch = generator.batch
    if tuple(y.shape) == tuple(operator.out_shape):
        y = y.unsqueeze(0)
    operator.check_output(y)
    if y.shape[0] == 1 and batch > 1:
        y = y.expand(batch, *y.shape[1:])
    if y.shape[0] != batch:
        raise ValueError(f"y holds {y.shape[0]} problems but the generator has {batch} members")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("measurements y contain NaN or inf")
    if truth is not None:
        if tuple(truth.shape) == gen_shape:
            truth = truth.unsqueeze(0)
        if tuple(truth.shape[1:]) != gen_shape or truth.shape[0] not in (1, batch):
            raise ValueError(
                f"truth must have shape [B, {', '.join(map(str, gen_shape))}], "
                f"got {list(truth.shape)}"
            )
    return y, truth


def fit(
    generator: Generator,
    operator: Operator,
    y: torch.Tensor,
    *,
    truth: torch.Tensor | None = None,
    optimizer: str = "adam",
    lr: float | None = None,
    rule: StopRule | None = None,
    device: str | torch.device = "auto",
    callback: Callable[[dict[str, Any]], None] | None = None,
    max_restarts: int = 8,
    **rule_overrides: Any,
) -> FitResult:
    """Fit the generator to the measurements ``y`` of ``operator`` until convergence.

    Args:
        generator: a :class:`~untrained_cs.generators.Generator` with ``batch`` members.
        operator: the measurement operator A (input shape = the generator's output shape).
        y: measurements ``[B, *out_shape]`` (or one problem ``[*out_shape]``).
        truth: optional ground truth ``[B, *signal]``: logs the true MSE/PSNR and the
            oracle-best iteration (it never influences the fit).
        optimizer: ``"adam"`` (published practice) or ``"gd"`` (plain gradient descent).
        lr: learning rate / step; default 0.005 for Adam and 1/L for GD, with L the
            Lipschitz estimate ||A||² ||J_G||² at the initialisation.
        rule: the stopping rule; keyword overrides (``max_iters=…, tol=…``) also work.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``.
        callback: called with a dict (iteration, loss, psnr, lr, active) at every check
            and at the early logged iterations (``EARLY_LOGS`` below ``check_every``).
        max_restarts: divergences undone (step halved each time) before giving up.

    Returns:
        A :class:`FitResult`; the generator's parameters are left at the estimate.

    Raises:
        ValueError: on mismatched shapes, non-finite y, or non-positive settings.
        FitDivergedError: when a member keeps diverging after ``max_restarts`` reductions.
    """
    rule = rule or StopRule()
    for key, value in rule_overrides.items():
        if not hasattr(rule, key):
            raise TypeError(f"fit() got an unknown setting {key!r}")
        setattr(rule, key, value)
    rule.validate()
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    if lr is not None and not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr}")
    y, truth = _check_inputs(generator, operator, y, truth)
    dev = resolve_device(device)
    generator.to(dev)
    operator.to(dev)
    y = y.to(dev)
    truth = truth.to(dev) if truth is not None else None
    generator.prepare(y, operator)
    batch = generator.batch
    params = [p for p in generator.parameters() if p.requires_grad]
    if lr is None:
        lr_b = (
            gd_step_size(generator, operator)
            if optimizer == "gd"
            else torch.full((batch,), ADAM_LR, dtype=torch.float64)
        )
    else:
        lr_b = torch.full((batch,), float(lr), dtype=torch.float64)
    lr_np = lr_b.detach().cpu().double().numpy()
    if optimizer == "gd":
        rule.plateau = False  # the paper's algorithm: a constant step
    opt = OPTIMIZERS[optimizer](params, torch.as_tensor(lr_np, device=dev))
    floor = rule.loss_floor * 0.5 * squared_norms(y).detach().cpu().double().numpy()
    state = StopState(rule, floor=floor, lr0=lr_np.copy())
    log: dict[str, list[Any]] = {"iteration": [], "loss": [], "lr": [], "mse": []}
    restarts = np.zeros(batch, dtype=np.int64)
    snap = opt.snapshot()
    start = time.perf_counter()
    iteration = 0
    while True:
        out = generator()
        loss_b = 0.5 * squared_norms(operator.matvec(out) - y)
        if iteration % rule.check_every == 0 or iteration >= rule.max_iters:
            loss_np = loss_b.detach().double().cpu().numpy()
            bad = state.diverged(loss_np)
            if bad.any():
                restarts += bad.astype(np.int64)
                if restarts.max() > max_restarts:
                    raise FitDivergedError(
                        f"fit diverged {restarts.max()} times (loss {loss_np[bad][0]:.3g}); "
                        f"the step was halved each time — try a smaller lr"
                    )
                opt.restore(snap, torch.as_tensor(bad, device=dev))
                lr_np = np.where(bad, lr_np * 0.5, lr_np)
                opt.lr = torch.as_tensor(np.where(state.active, lr_np, 0.0), device=dev)
                continue
            _record(log, iteration, loss_np, lr_np, out, truth)
            lr_np = state.update(iteration, loss_np, lr_np)
            opt.lr = torch.as_tensor(np.where(state.active, lr_np, 0.0), device=dev)
            snap = opt.snapshot()
            if callback is not None:
                callback(_progress(log, state))
            if not state.active.any():
                break
        elif iteration < rule.check_every and iteration in EARLY_LOGS:
            loss_np = loss_b.detach().double().cpu().numpy()
            if np.isfinite(loss_np).all():  # a divergence is handled at the next check
                _record(log, iteration, loss_np, lr_np, out, truth)
                if callback is not None:
                    callback(_progress(log, state))
        grads = torch.autograd.grad(loss_b.sum(), params)
        opt.step(list(grads))
        iteration += 1
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        estimate = generator().detach().cpu()
    if not bool(torch.isfinite(estimate).all()):
        raise FitDivergedError("the fit produced a non-finite estimate")
    history = {k: np.asarray(v) for k, v in log.items() if v}
    if "mse" in history:
        history["psnr"] = psnr_from_mse(history["mse"])
    best = oracle_best(history)
    return FitResult(
        estimate=estimate,
        history=history,
        converged=[r in ("converged", "loss_floor") for r in state.reason],
        stop_reason=list(state.reason),
        stop_iteration=[int(i) for i in state.stop_iteration],
        best_iteration=best[0] if best else None,
        best_psnr=best[1] if best else None,
        seconds=seconds,
        device=str(dev),
        config={
            "optimizer": optimizer,
            "lr": [float(v) for v in state.lr0],
            "rule": dict(vars(rule)),
        },
    )


def _record(
    log: dict[str, list[Any]],
    iteration: int,
    loss: np.ndarray,
    lr: np.ndarray,
    out: torch.Tensor,
    truth: torch.Tensor | None,
) -> None:
    log["iteration"].append(iteration)
    log["loss"].append(loss)
    log["lr"].append(lr.copy())
    if truth is not None:
        err = squared_norms(out.detach() - truth) / out[0].numel()
        log["mse"].append(err.double().cpu().numpy())


def _progress(log: dict[str, list[Any]], state: StopState) -> dict[str, Any]:
    rec = {
        "iteration": log["iteration"][-1],
        "loss": log["loss"][-1],
        "lr": log["lr"][-1],
        "active": int(state.active.sum()),
    }
    if log["mse"]:
        rec["psnr"] = psnr_from_mse(log["mse"][-1])
    return rec
