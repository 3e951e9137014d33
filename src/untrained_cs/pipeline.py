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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .fit import FitInterrupted, FitResult, FitState, NoisyStop, continue_fit, fit, init_state
from .generators import Generator
from .generators.factory import make_generator
from .methods import GeneratorFit, Method, Solver
from .metrics import scores
from .operators.matrix import MatrixOperator, stack_rows
from .problems import Problem, derive_seed, member_seeds, spec_hash

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
        resume: a saved state to continue from (instead of starting at iteration 0).
    """

    should_stop: Callable[[], bool] | None = None
    checkpoint: Path | None = None
    every: float = CHECKPOINT_EVERY
    resume: Path | None = None


@dataclass
class Record:
    """What one method produced on one problem.

    Attributes:
        problem, method: their specs as dicts (the method resolved: no unset defaults).
        key: the stable hash of both (the sweep store's key).
        estimate: in the truth's space (an image, a signal, an MRI magnitude).
        metrics: psnr, ssim, mse, nmse, rel_error and, for fits, loss, iterations,
            converged, stop_reason, best_iteration, best_psnr; seconds, device.
        history: iteration, loss, lr, mse, psnr per logged iteration (fits only).
        fit: the engine's result (fits only); extra: method-specific facts (solver weight).
    """

    problem: dict[str, Any]
    method: dict[str, Any]
    key: str
    estimate: torch.Tensor
    metrics: dict[str, Any]
    history: dict[str, np.ndarray] | None = None
    fit: FitResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def resolve(problem: Problem, method: GeneratorFit) -> GeneratorFit:
    """The method with every default filled in for this problem."""
    return method.resolved(problem.kind, problem.spec.noisy)


def build_generator(
    problem: Problem, method: GeneratorFit, seeds: list[int] | None = None
) -> Generator:
    """The method's generator for the problem (resolved settings); one member seeded from
    the spec, or one member per seed of ``seeds`` (a batch of problems like this one)."""
    method = resolve(problem, method)
    return make_generator(
        method.generator,
        problem.operator.in_shape,
        method.channels,
        method.layers,
        seed=member_seeds(problem.spec.seed, 1) if seeds is None else seeds,
        signed=problem.signed_output,
        kernel_width=method.kernel_width,
        output_scale=problem.output_scale() if method.output_scale is None else method.output_scale,
    )


def error_function(problems: Sequence[Problem]) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """Generator outputs → per member MSE / data_range² against its own truth, in the
    truth's space (MRI magnitudes, signals not in [0, 1]); None when the problems give the
    engine a truth to compare outputs with itself (:attr:`Problem.fit_truth`: images)."""
    first = problems[0]
    truths = [p.truth for p in problems if p.truth is not None]
    if first.fit_truth is not None or len(truths) != len(problems):
        return None
    truth = torch.stack(truths)
    scale = torch.tensor([p.data_range**2 for p in problems], dtype=torch.float64)

    def error(out: torch.Tensor) -> torch.Tensor:
        img = first.to_image(out)
        diff = (img - truth.to(device=img.device, dtype=img.dtype)).reshape(img.shape[0], -1)
        return diff.square().mean(dim=1).double() / scale.to(img.device)

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
    truth = problem.fit_truth
    error = error_function([problem])
    if control.resume is not None:
        return FitState.load(control.resume, generator, problem.operator, problem.y, truth,
                             error=error)  # fmt: skip
    return init_state(
        generator,
        problem.operator,
        problem.y,
        truth=truth,
        optimizer=method.optimizer,
        lr=method.lr,
        device=device,
        error=error,
        stop=noisy_stop(problem, method),
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
    """The record of member ``member`` of a finished fit."""
    output = result.estimate[member : member + 1]
    estimate = problem.to_image(output)[0]
    summary = result.summary(member)
    metrics = {
        **scores(estimate, problem.truth, problem.data_range),
        **{k: v for k, v in summary.items() if k not in ("psnr", "mse")},
        **data_residuals(problem, method, output),
        "n": problem.n,
        "m": problem.m,
        "parameters": parameters,
    }
    return Record(
        problem=problem.spec.to_dict(),
        method=method.to_dict(),
        key=spec_hash(problem.spec, method),
        estimate=estimate,
        metrics=metrics,
        history=result.member_history(member),
        fit=result,
    )  # fmt: skip


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
) -> list[Record]:
    """Fit one generator member per problem in one batched fit; a record per problem.

    The problems must share their kind, signal shape and noise level and be measured by
    dense matrices (Gaussian); their numbers of measurements m may differ: the matrices
    and y are padded with zero rows to the largest m (:func:`~untrained_cs.operators.
    matrix.stack_rows`), which changes neither a member's loss nor its gradient, and the
    noise-aware stops see each member's own m rows (hold-out entries are drawn from its
    real rows, with its own seed). Member b starts from the generator problem b alone would
    get (its own root seed), so each record matches a single :func:`run` up to the rounding
    of batched kernels; members that stop leave the computation.

    Args:
        problems: built from specs of one kind; method: the fit (defaults resolved on the
            first problem); generator: a prebuilt generator of ``len(problems)`` members
            (e.g. with settings the method spec does not name), else built from the method.
        compact: drop stopped members from the computation (False: keep them frozen in
            the batch, for comparisons).
        cap: compute at most this many members at once, the others queued in order
            (:func:`~untrained_cs.fit.fit`; not with the hold-out rule).
        callback: the fit's progress hook (:func:`~untrained_cs.fit.fit`).
    """
    first = problems[0]
    method = resolve(first, method)
    operator, y = stack_dense(problems)
    seeds = [member_seeds(p.spec.seed, 1)[0] for p in problems]
    gen = generator or build_generator(first, method, seeds)
    fit_truths = [p.fit_truth for p in problems if p.fit_truth is not None]
    truth = torch.stack(fit_truths) if len(fit_truths) == len(problems) else None
    held_seeds = tuple(derive_seed(p.spec.seed, "holdout") for p in problems)
    result = fit(
        gen, operator, y,
        truth=truth,
        error=error_function(problems),
        optimizer=method.optimizer, lr=method.lr, device=device, compact=compact,
        stop=replace(noisy_stop(first, method), seed=held_seeds), cap=cap, callback=callback,
        **method.rule_overrides(),
    )  # fmt: skip
    params = gen.num_parameters()
    return [fit_record(p, method, result, params, b) for b, p in enumerate(problems)]


def stack_dense(problems: Sequence[Problem]) -> tuple[MatrixOperator, torch.Tensor]:
    """The batched operator and measurements ``[B, m_max]`` of dense-matrix problems of one
    signal shape and noise level, shorter ones padded with zero rows (see :func:`run_batch`).

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
    operator = stack_rows(mats, ops[0].in_shape)
    y = torch.cat([torch.nn.functional.pad(p.y, (0, operator.m - p.y.shape[-1])) for p in problems])
    return operator, y


def run_solver(problem: Problem, method: Solver, *, device: str | torch.device = "auto") -> Record:
    """:func:`run` for a classical solver (its weight chosen by ``method.weight_choice``).

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
