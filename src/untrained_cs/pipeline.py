"""One way from a problem to a record: ``run(problem, method) -> Record``.

A method is an un-trained generator fit (:class:`~untrained_cs.methods.GeneratorFit`) or
a classical solver (:class:`~untrained_cs.methods.Solver`) on the problem's own operator.
Every record is scored the same way (:func:`untrained_cs.metrics.scores`), keeps its
history in one format (iteration, loss, lr, and mse/psnr against the truth), and takes its
oracle-best iteration from one rule (lowest true MSE). Generator seeds derive from the
problem's root seed (:mod:`untrained_cs.problems.seeds`).

A generator fit can be stopped and continued: :class:`FitControl` polls a stop request
once per iteration, checkpoints the fit's state by time, and resumes from a saved state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .classical import run_solver
from .fit import FitInterrupted, FitResult, FitState, NoisyStop, continue_fit, fit, init_state
from .generators import Generator
from .generators.factory import make_generator
from .methods import GeneratorFit, Method, Solver
from .metrics import scores
from .operators.matrix import MatrixOperator, stack_rows
from .problems import Problem, derive_seed, member_seeds, spec_hash
from .record import Record as Record  # re-exported: the records every run returns

Callback = Callable[[dict[str, Any]], None]
#: a long fit saves its state this often (seconds) when a checkpoint path is given
CHECKPOINT_EVERY = 300.0


@dataclass
class FitControl:
    """How a generator fit may be stopped, checkpointed and continued.

    Attributes:
        should_stop: polled once per iteration; True stops the fit between iterations.
        checkpoint: where the fit's state is saved (on a stop, and every ``every`` s).
        every: seconds between time-based checkpoints.
        resume: a saved state to continue from (instead of starting at iteration 0; the
            saved fit's own ``compile`` setting is kept).
        compile: run the fit's forward pass compiled (``torch.compile``,
            :mod:`~untrained_cs.fit.compiled`): the same fit, its rounding aside.
    """

    should_stop: Callable[[], bool] | None = None
    checkpoint: Path | None = None
    every: float = CHECKPOINT_EVERY
    resume: Path | None = None
    compile: bool = False


def resolve(problem: Problem, method: GeneratorFit) -> GeneratorFit:
    """The method with every default filled in for this problem."""
    return method.resolved(problem.kind, problem.spec.noisy)


def build_generator(
    problem: Problem, method: GeneratorFit, seeds: list[int] | None = None
) -> Generator:
    """The method's generator for the problem (resolved settings); its members seeded from
    the spec (one, or the ensemble's K), or one member per seed of ``seeds`` (a batch of
    problems like this one)."""
    method = resolve(problem, method)
    return make_generator(
        method.generator,
        problem.operator.in_shape,
        method.channels,
        method.layers,
        seed=member_seeds(problem.spec.seed, method.ensemble) if seeds is None else seeds,
        signed=problem.signed_output,
        kernel_width=method.kernel_width,
        output_scale=problem.output_scale() if method.output_scale is None else method.output_scale,
        input_side=method.input_side,
    )


def error_function(
    problems: Sequence[Problem], ensemble: int = 1
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """Generator outputs → per member MSE / data_range² against its own truth, in the
    truth's space (MRI magnitudes, signals not in [0, 1]); None when the problems give the
    engine a truth to compare outputs with itself (:attr:`Problem.fit_truth`: images of
    single fits) or have none. With ``ensemble`` K, members ``p·K … p·K + K − 1`` are
    problem p's ensemble, and each member's entry is the MSE of their mean."""
    first = problems[0]
    truths = [p.truth for p in problems if p.truth is not None]
    if len(truths) != len(problems) or (first.fit_truth is not None and ensemble == 1):
        return None
    truth = torch.stack(truths)
    scale = torch.tensor([p.data_range**2 for p in problems], dtype=torch.float64)
    plain = all(type(p).to_image is Problem.to_image for p in problems)  # one pass for all

    def error(out: torch.Tensor) -> torch.Tensor:
        parts = out.reshape(len(problems), ensemble, *out.shape[1:])
        if plain:
            img = parts.mean(dim=1)
        else:  # each problem maps its own members (their scales may differ: MRI slices)
            img = torch.stack(
                [p.to_image(part).mean(dim=0) for p, part in zip(problems, parts, strict=True)]
            )
        diff = (img - truth.to(device=img.device, dtype=img.dtype)).reshape(img.shape[0], -1)
        mse = diff.square().mean(dim=1).double() / scale.to(img.device)
        return mse.repeat_interleave(ensemble)

    return error


def run(
    problem: Problem,
    method: Method,
    *,
    callback: Callback | None = None,
    device: str | torch.device = "auto",
    control: FitControl | None = None,
) -> Record:
    """Solve ``problem`` with ``method`` and score the result.

    Raises:
        FitInterrupted: when ``control.should_stop`` stopped the fit (its state is saved
            to ``control.checkpoint`` first, when given).
        FitDivergedError: when a fit keeps diverging.
    """
    if isinstance(method, Solver):
        return run_solver(problem, method, device=device)
    return run_fit(problem, method, callback=callback, device=device, control=control)


def run_fit(
    problem: Problem,
    method: GeneratorFit,
    *,
    callback: Callback | None = None,
    device: str | torch.device = "auto",
    control: FitControl | None = None,
) -> Record:
    """:func:`run` for a generator fit."""
    method = resolve(problem, method)
    control = control or FitControl()
    generator = build_generator(problem, method)
    state = _start(problem, method, generator, device, control)
    checkpoint = _checkpointer(control)
    try:
        result = continue_fit(
            state, should_stop=control.should_stop, on_check=checkpoint, callback=callback
        )
    except FitInterrupted as exc:
        if control.checkpoint is not None:
            exc.state.save(control.checkpoint)
        raise
    return fit_record(problem, method, result, generator.num_parameters())


def _start(
    problem: Problem,
    method: GeneratorFit,
    generator: Generator,
    device: str | torch.device,
    control: FitControl,
) -> FitState:
    k = method.ensemble
    truth = problem.fit_truth if k == 1 else None  # an ensemble is scored by its mean
    error = error_function([problem], k)
    y = problem.y.expand(k, *problem.y.shape[1:])
    if control.resume is not None:
        return FitState.load(control.resume, generator, problem.operator, y, truth,
                             error=error)  # fmt: skip
    return init_state(
        generator,
        problem.operator,
        y,
        truth=truth,
        optimizer=method.optimizer,
        lr=method.lr,
        device=device,
        error=error,
        stop=noisy_stop(problem, method),
        compact=k == 1,  # an ensemble's stopped members stay (frozen) in its mean
        compile=control.compile,
        **method.rule_overrides(),
    )


def noisy_stop(problem: Problem, method: GeneratorFit) -> NoisyStop:
    """The engine's stopping rule for a resolved method: hold-out entries drawn from the
    root seed among the problem's candidates (MRI: outside the fully sampled centre), the
    problem's noise level."""
    candidates = problem.holdout_candidates() if method.stop == "holdout" else None
    return NoisyStop(
        method.stop,
        noise_std=problem.noise_std or None,
        fraction=method.holdout_fraction,
        seed=derive_seed(problem.spec.seed, "holdout"),
        candidates=candidates,
        groups=None if method.ensemble == 1 else (0,) * method.ensemble,
    )


def _checkpointer(control: FitControl) -> Callable[[FitState], None] | None:
    """A time-based ``on_check`` hook: save the state every ``control.every`` seconds."""
    if control.checkpoint is None:
        return None
    path, last = control.checkpoint, [time.monotonic()]

    def on_check(state: FitState) -> None:
        if time.monotonic() - last[0] >= control.every:
            state.save(path)
            last[0] = time.monotonic()

    return on_check


def fit_record(
    problem: Problem, method: GeneratorFit, result: FitResult, parameters: int, member: int = 0
) -> Record:
    """The record of problem ``member`` of a finished fit: its member's, or with an
    ensemble of K the mean of its members ``member·K … member·K + K − 1`` (estimate,
    scores, residuals; history and oracle-best are the mean's, the loss the members' mean),
    with the members' per-pixel spread (``extra["spread"]``)."""
    k = method.ensemble
    rows = range(member * k, member * k + k)
    outputs = result.estimate[rows.start : rows.stop]
    images = problem.to_image(outputs)
    estimate = images.mean(dim=0)
    summaries = [result.summary(b) for b in rows]
    summary = summaries[0]
    if k > 1:
        summary = {
            **summary,
            "loss": float(np.mean([s["loss"] for s in summaries])),
            "iterations": max(s["iterations"] for s in summaries),
            "converged": all(s["converged"] for s in summaries),
            "stop_reason": "/".join(sorted({s["stop_reason"] for s in summaries})),
        }
        summary.pop("selected_iteration", None)  # each member's own
    metrics = {
        **scores(estimate, problem.truth, problem.data_range),
        **{key: v for key, v in summary.items() if key not in ("psnr", "mse")},
        **data_residuals(problem, method, outputs.mean(dim=0, keepdim=True)),
        "n": problem.n,
        "m": problem.m,
        "parameters": parameters * k,  # an ensemble's: all its members'
    }
    history = result.member_history(rows.start) if k == 1 else _group_history(result, rows)
    extra: dict[str, Any] = {}
    if k > 1:
        spread = images.std(dim=0, correction=0)
        extra["spread"] = spread
        metrics.update(ensemble=k, **spread_metrics(spread, estimate, problem.truth))
    return Record(
        problem=problem.spec.to_dict(),
        method=method.to_dict(),
        key=spec_hash(problem.spec, method),
        estimate=estimate,
        metrics=metrics,
        history=history,
        fit=result,
        extra=extra,
    )  # fmt: skip


def _group_history(result: FitResult, rows: range) -> dict[str, np.ndarray]:
    """An ensemble's history (``[T, 1]`` columns) up to its last member's stop: the members'
    mean loss; lr, mse and psnr of its first member (mse and psnr are the mean's for all)."""
    h = result.history
    last = max(result.stop_iteration[b] for b in rows)
    keep = np.flatnonzero(h["iteration"] <= last)
    out = {k: v[keep, rows.start : rows.start + 1] if v.ndim == 2 else v[keep]
           for k, v in h.items()}  # fmt: skip
    out["loss"] = h["loss"][keep, rows.start : rows.stop].mean(axis=1, keepdims=True)
    return out


def spread_metrics(
    spread: torch.Tensor, estimate: torch.Tensor, truth: torch.Tensor | None
) -> dict[str, float | None]:
    """How an ensemble's spread reads: its mean, and (with the truth) the correlation of
    spread and |error| over pixels (1: the spread maps the error exactly)."""
    out: dict[str, float | None] = {"spread_mean": float(spread.mean())}
    if truth is not None:
        a = spread.double().flatten()
        b = (estimate - truth).abs().double().flatten()
        a, b = a - a.mean(), b - b.mean()
        denom = float(a.norm() * b.norm())
        out["spread_error_correlation"] = float(a @ b) / denom if denom > 0 else None
    return out


def data_residuals(problem: Problem, method: GeneratorFit, output: torch.Tensor) -> dict:
    """What a fit's output says about the data without a truth: ``residual`` =
    ||A G(θ̂) − y|| / ||y|| over every measured entry and, with the hold-out rule,
    ``heldout_residual`` over the entries the fit never saw (the same draw as the fit's)."""
    from .fit.selection import holdout_entries

    y = problem.y
    with torch.no_grad():
        r = problem.operator(output.to(y.device, torch.float32)) - y
    out = {"residual": _relative(r, y)}
    if method.stop == "holdout":
        stop = noisy_stop(problem, method)
        held = holdout_entries(problem.operator, y, stop.fraction, stop.seed, stop.candidates)
        held = held.to(y.device).expand_as(r)
        out["heldout_residual"] = _relative(r[held], y[held])
    return out


def _relative(r: torch.Tensor, y: torch.Tensor) -> float | None:
    norm = float(y.abs().pow(2).sum().sqrt())
    return float(r.abs().pow(2).sum().sqrt()) / norm if norm > 0 else None


def run_batch(
    problems: Sequence[Problem],
    method: GeneratorFit,
    *,
    generator: Generator | None = None,
    device: str | torch.device = "auto",
    compact: bool = True,
    cap: int | None = None,
    callback: Callback | None = None,
    compile: bool = False,
) -> list[Record]:
    """Fit one generator member per problem in one batched fit; a record per problem.

    The problems must share their kind, signal shape and noise level, and either stack by
    their own rule (:meth:`Problem.stack`: MRI slices measured alike) or be measured by
    dense matrices (Gaussian), whose numbers of measurements m may differ: the matrices
    and y are padded with zero rows to the largest m (:func:`~untrained_cs.operators.
    matrix.stack_rows`), which changes neither a member's loss nor its gradient, and the
    noise-aware stops see each member's own m rows (hold-out entries are drawn from its
    real rows, with its own seed). Member b starts from the generator problem b alone would
    get (its own root seed), so each record matches a single :func:`run` up to the rounding
    of batched kernels; members that stop leave the computation.

    Args:
        problems: built from specs of one kind; method: the fit (defaults resolved on the
            first problem, and its output scale, unless the method gives one); generator:
            a prebuilt generator of ``len(problems)`` members (e.g. with settings the
            method spec does not name), else built from the method.
        compact: drop stopped members from the computation (False: keep them frozen in
            the batch, for comparisons).
        cap: compute at most this many members at once, the others queued in order
            (:func:`~untrained_cs.fit.fit`; not with the hold-out rule).
        callback: the fit's progress hook (:func:`~untrained_cs.fit.fit`).
        compile: run the forward pass compiled (:class:`FitControl`).
    """
    first = problems[0]
    method = resolve(first, method)
    k = method.ensemble
    stacked = first.stack(problems, k)
    operator, y = stacked if stacked is not None else stack_dense(problems, k)
    seeds = [s for p in problems for s in member_seeds(p.spec.seed, k)]
    gen = generator or build_generator(first, method, seeds)
    fit_truths = [p.fit_truth for p in problems if p.fit_truth is not None]
    truth = torch.stack(fit_truths) if len(fit_truths) == len(problems) and k == 1 else None
    held_seeds = tuple(derive_seed(p.spec.seed, "holdout") for p in problems)
    groups = None if k == 1 else tuple(np.repeat(np.arange(len(problems)), k).tolist())
    if k > 1 and cap is not None:
        raise ValueError("an ensemble's members are fitted together: run_batch takes no cap")
    result = fit(
        gen, operator, y,
        truth=truth,
        error=error_function(problems, k),
        optimizer=method.optimizer, lr=method.lr, device=device, compact=compact and k == 1,
        stop=replace(noisy_stop(first, method), seed=held_seeds, groups=groups), cap=cap,
        callback=callback, compile=compile, **method.rule_overrides(),
    )  # fmt: skip
    params = gen.num_parameters()
    return [fit_record(p, method, result, params, b) for b, p in enumerate(problems)]


def stack_dense(
    problems: Sequence[Problem], ensemble: int = 1
) -> tuple[MatrixOperator, torch.Tensor]:
    """The batched operator and measurements ``[B, m_max]`` of dense-matrix problems of one
    signal shape and noise level, shorter ones padded with zero rows (see :func:`run_batch`);
    with ``ensemble`` K, each problem's K times in a row (B = K × the problems).

    Raises:
        ValueError: (naming ``run_batch``) for other operators, shapes or noise levels.
    """
    ops = [p.operator for p in problems]
    mats = [op.matrix for op in ops if isinstance(op, MatrixOperator) and op.count == 1]
    if len(mats) != len(ops):
        raise ValueError("run_batch stacks dense-matrix operators (Gaussian) only")
    if len({tuple(op.in_shape) for op in ops}) != 1:
        raise ValueError("run_batch needs problems of one signal shape")
    if len({p.noise_std for p in problems}) != 1:
        raise ValueError("run_batch needs problems of one noise level")
    operator = stack_rows([a for a in mats for _ in range(ensemble)], ops[0].in_shape)
    y = torch.cat([torch.nn.functional.pad(p.y, (0, operator.m - p.y.shape[-1])) for p in problems])
    return operator, y.repeat_interleave(ensemble, dim=0)
