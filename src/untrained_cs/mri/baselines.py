"""Classical MRI baselines: zero-filling, and the generic solvers on the problem's operator.

Min-norm least squares (CG), ℓ1-wavelet (FISTA) and TV (PDHG) come from
:mod:`untrained_cs.solvers` and run on the very operator the generator is fitted through
(``MultiCoilMRI`` for ``sense``: a real image; ``MultiCoilTwoChannelMRI`` for ``2ch``: (re, im)
per coil, scored on their RSS), with steps from its measured norm. Zero-filled is the RSS of
the inverse FFT of the zero-filled k-space (for ``2ch`` that is the RSS of A^T y).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import torch

from ..solvers import BASELINES, BaselineResult, run_baselines
from .data import MRIData
from .fft import rss
from .operators import MultiCoilMRI, MultiCoilTwoChannelMRI

#: weights relative to max|A^T y| the weighted baselines try (MRI-tuned, oracle-picked);
#: they reach down to near least squares, which the noiseless embedded slice rewards.
GRIDS: dict[str, tuple[float, ...]] = {
    "l1_wavelet": (1e-6, 1e-5, 1e-4, 1e-3),
    "tv": (3e-4, 1e-3, 3e-3, 1e-2),
}
#: solver settings: run to convergence. The generic caps (100 FISTA, 200 PDHG iterations)
#: stop 2.5–3.5 dB short on the 256² slice at 8x (bench/RESULTS.md, issue 23 item 6).
OPTIONS: dict[str, dict[str, int]] = {
    "l1_wavelet": {"max_iters": 1000},
    "tv": {"max_iters": 1000},
}

__all__ = ["BASELINES", "GRIDS", "OPTIONS", "BaselineResult", "mri_baselines", "zero_filled"]


class Problem(Protocol):
    """What the baselines need of a :class:`~untrained_cs.mri.problem.KSpaceProblem`."""

    operator: MultiCoilTwoChannelMRI | MultiCoilMRI
    y: torch.Tensor
    scale: float
    data: MRIData

    def images(self, out: torch.Tensor) -> torch.Tensor: ...

    def magnitude(self, image: torch.Tensor) -> torch.Tensor: ...

    def score(self, image: torch.Tensor) -> tuple[float, float]: ...


def zero_filled(problem: Problem) -> torch.Tensor:
    """RSS of the zero-filled inverse FFT of every coil, cropped and unscaled ``[h, w]``."""
    op = problem.operator
    y = problem.y.to(op.mask.device)
    return problem.magnitude(rss(op.unsample(y)[0]).cpu())


def mri_baselines(
    problem: Problem,
    names: Sequence[str] = ("l1_wavelet", "tv"),
    *,
    weight_choice: str = "oracle",
    noise_std: float | None = None,
    grid: Mapping[str, Sequence[float]] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, BaselineResult]:
    """Zero-filled, then each named solver on the problem's own operator and k-space.

    Args:
        problem: an MRI problem (operator, scaled k-space ``y`` ``[1, coils, H, W]``, and
            its image/magnitude/score maps); runs on the operator's device.
        names: from :data:`~untrained_cs.solvers.BASELINES`.
        weight_choice: ``"oracle"`` (best PSNR against the target), ``"discrepancy"`` or
            ``"holdout"`` (see :func:`~untrained_cs.solvers.run_baselines`).
        noise_std: the noise std of ``problem.y`` (E|n|² = σ² per entry; default the
            data's ``noise_std`` times the problem's scale), used by ``discrepancy``.
        grid: per method, relative weights (default :data:`GRIDS`); options: per method,
            solver keyword arguments (over :data:`OPTIONS`).

    Returns:
        ``{name: BaselineResult}`` with ``zero_filled`` first; images cropped ``[h, w]``.
    """
    start = time.perf_counter()
    zf = zero_filled(problem)
    out = {"zero_filled": BaselineResult(zf, *problem.score(zf), None, None, 0.0)}
    out["zero_filled"].seconds = time.perf_counter() - start
    if not names:
        return out
    op = problem.operator
    if noise_std is None and problem.data.noise_std > 0:
        noise_std = problem.data.noise_std * problem.scale
    solved = run_baselines(
        op,
        problem.y.to(op.mask.device),
        names,
        to_image=lambda x: problem.images(x)[0].cpu(),
        score=problem.score,
        weight_choice=weight_choice,
        noise_std=noise_std,
        grid={**GRIDS, **(grid or {})},
        options={**OPTIONS, **(options or {})},
    )
    return {**out, **solved}
