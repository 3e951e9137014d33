"""Classical baselines on any operator: min-norm, ℓ1-wavelet and TV, weights chosen by rule.

The weighted methods try the weights ``grid × max|A^T y|``: that scale moves with λ under
any rescaling of A and y (both scale by c² when A and y scale by c), so one relative grid
fits every operator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..metrics import psnr as psnr_of
from ..metrics import ssim as ssim_of
from ..operators.base import LinearMap
from .choose import (
    WEIGHT_CHOICES,
    Choice,
    Solve,
    choose_discrepancy,
    choose_holdout,
    choose_oracle,
)
from .fista import fista
from .least_squares import min_norm, real_dtype
from .norms import lipschitz_constant, weight_scale
from .tv import tv_pdhg

BASELINES = ("min_norm", "l1_wavelet", "tv")
#: weights relative to max|A^T y| tried by the weighted methods.
GRIDS: dict[str, tuple[float, ...]] = {
    "l1_wavelet": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
    "tv": (1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
}

Image = Callable[[torch.Tensor], torch.Tensor]
Score = Callable[[torch.Tensor], tuple[float, float]]


@dataclass
class BaselineResult:
    """One baseline's image, its metrics (when scored), weight and how it was chosen."""

    image: torch.Tensor
    psnr: float | None
    ssim: float | None
    weight: float | None
    weight_choice: str | None
    seconds: float


def solver(name: str, options: Mapping[str, Any] | None = None) -> Solve:
    """``solve(operator, y, λ) -> x`` for a weighted method (``options`` go to the solver)."""
    opts = dict(options or {})
    if name == "l1_wavelet":
        return lambda op, y, lam: fista(op, y, lam, **opts).x
    if name == "tv":
        return lambda op, y, lam: tv_pdhg(op, y, lam, **opts).x
    raise ValueError(f"unknown weighted baseline {name!r}; choose from {sorted(GRIDS)}")


def truth_score(truth: torch.Tensor, data_range: float = 1.0) -> Score:
    """(PSNR, SSIM) of an image batch against ``truth``, averaged over members."""

    def score(image: torch.Tensor) -> tuple[float, float]:
        est, ref = image.detach().double().cpu(), truth.detach().double().cpu()
        ps = float(psnr_of(est, ref, data_range).mean())
        if est.dim() < 3 or est.shape[-2] < 7 or est.shape[-1] < 7:
            return ps, float("nan")  # SSIM needs 2D images of at least 7 x 7
        values = [ssim_of(e, r, data_range) for e, r in zip(est, ref, strict=True)]
        return ps, sum(values) / len(values)

    return score


def _check(names: Sequence[str], weight_choice: str, score, noise_std) -> None:
    bad = [n for n in names if n not in BASELINES]
    if bad:
        raise ValueError(f"unknown baselines {bad}; choose from {list(BASELINES)}")
    if weight_choice not in WEIGHT_CHOICES:
        raise ValueError(f"weight_choice must be one of {WEIGHT_CHOICES}, got {weight_choice!r}")
    if weight_choice == "oracle" and score is None:
        raise ValueError("weight_choice 'oracle' needs the ground truth (score or truth)")
    if weight_choice == "discrepancy" and not noise_std:
        raise ValueError("weight_choice 'discrepancy' needs noise_std > 0")


def _choose(
    rule: str,
    solve: Solve,
    problem: tuple[LinearMap, torch.Tensor],
    weights: Sequence[float],
    score_x: Callable[[torch.Tensor], tuple[float, float]] | None,
    noise_std: float | None,
    seed: int,
) -> Choice:
    op, y = problem
    if rule == "oracle":
        assert score_x is not None
        return choose_oracle(solve, op, y, weights, score_x)
    if rule == "discrepancy":
        assert noise_std is not None
        return choose_discrepancy(solve, op, y, weights, noise_std)
    return choose_holdout(solve, op, y, weights, seed=seed)


def _result(
    chosen: Choice, rule: str | None, image_of: Image, score: Score | None, seconds: float
) -> BaselineResult:
    """The result of one method: its image, scored unless the choice already scored it."""
    image = image_of(chosen.x)
    ps, ss = chosen.psnr, chosen.ssim
    if ps is None and score is not None:
        ps, ss = score(image)
    weight = None if rule is None else chosen.weight
    return BaselineResult(image, ps, ss, weight, rule, seconds)


def run_baselines(
    operator: LinearMap,
    y: torch.Tensor,
    names: Sequence[str] = BASELINES,
    *,
    to_image: Image | None = None,
    score: Score | None = None,
    truth: torch.Tensor | None = None,
    weight_choice: str = "oracle",
    noise_std: float | None = None,
    grid: Mapping[str, Sequence[float]] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int = 0,
) -> dict[str, BaselineResult]:
    """Solve with each named baseline; weighted ones pick λ from a grid by ``weight_choice``.

    Args:
        operator, y: the problem, y ``[B, *out_shape]`` on the operator's device.
        names: from :data:`BASELINES` (``min_norm``, ``l1_wavelet``, ``tv``).
        to_image: estimate ``[B, *in_shape]`` → the image to score and return (default
            the estimate itself; e.g. the RSS of coil images).
        score: image → (PSNR, SSIM) against the truth; truth: alternatively the true image
            (scored with data range 1). Either enables metrics and the ``oracle`` rule.
        weight_choice: ``"oracle"`` (best PSNR, needs the truth), ``"discrepancy"``
            (largest λ whose residual is within the noise level, needs ``noise_std``: σ
            with E|n|² = σ² per entry) or ``"holdout"`` (best prediction of 10% held-out
            entries, then solved again on all).
        grid: per method, weights relative to max|A^T y| (default :data:`GRIDS`).
        options: per method, keyword arguments of its solver (e.g. ``max_iters``).
        seed: the hold-out draw.

    Returns:
        ``{name: BaselineResult}`` in the order of ``names``.
    """
    if score is None and truth is not None:
        score = truth_score(truth)
    _check(names, weight_choice, score, noise_std)
    image_of = to_image or (lambda x: x)
    score_x = None if score is None else (lambda x: score(image_of(x)))
    scale = float(weight_scale(operator, y).max())
    opts, lip = options or {}, None
    out: dict[str, BaselineResult] = {}
    for name in names:
        start = time.perf_counter()
        if name == "min_norm":
            chosen, rule = Choice(0.0, min_norm(operator, y, **opts.get(name, {}))), None
        else:
            if lip is None:  # one power iteration serves every weight and method
                lip = lipschitz_constant(operator, real_dtype(y))
            solve = solver(name, {"lipschitz": lip, **opts.get(name, {})})
            weights = [r * scale for r in (grid or {}).get(name, GRIDS[name])]
            problem = (operator, y)
            chosen = _choose(weight_choice, solve, problem, weights, score_x, noise_std, seed)
            rule = weight_choice
        out[name] = _result(chosen, rule, image_of, score, time.perf_counter() - start)
    return out
