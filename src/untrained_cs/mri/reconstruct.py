"""The MRI reconstruction pipeline: undersample, fit an un-trained generator, compare.

Two forward models: ``2ch`` (the paper's set-up, ``mri-multicoil-2ch``): the generator
outputs (re, im) of every coil image and the estimate is their root-sum-of-squares; and
``sense`` (``mri-multicoil``): with known sensitivity maps (simulated data) the generator
outputs the real image itself. The k-space is scaled so that the zero-filled RSS image peaks
at :data:`PEAK` and estimates are scaled back. Metrics of the centre-cropped magnitude image
(PSNR with the target's maximum as data range, as fastMRI does, and SSIM) are logged at
every check of the fit, so the oracle-best iteration is known.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..fit import FitResult, fit
from ..generators import DeepDecoder, DeepImagePrior
from ..generators.base import Generator
from ..metrics import psnr, ssim
from .baselines import BaselineResult, Model, run_baselines
from .data import MRIData, center_crop
from .fft import ifft2c, rss
from .masks import CartesianMask, cartesian_mask
from .operators import MultiCoilMRI, MultiCoilTwoChannelMRI

MRI_GENERATORS = ("deep-decoder", "dip")
#: CPU-tuned deep decoder defaults (published MRI practice: 5-6 layers, 64-256 channels).
DEFAULT_CHANNELS = 32
DEFAULT_LAYERS = 5
#: the zero-filled image peaks at this after scaling (headroom below the sigmoid's 1).
PEAK = 1.0


MODELS = ("auto", "sense", "2ch")


@dataclass
class MRIProblem:
    """Undersampled k-space ready to fit, and what is needed to score an estimate.

    Attributes:
        operator: ``MultiCoilTwoChannelMRI`` (``2ch``: the generator outputs (re, im) per
            coil, RSS estimate) or ``MultiCoilMRI`` (``sense``: known maps, the generator
            outputs the real image).
        y: scaled measured k-space ``[1, coils, H, W]`` (complex64).
        scale: the factor applied to the k-space (estimates are divided by it).
        target: ground-truth magnitude ``[h, w]``; data_range: its maximum.
        mask: the column mask and its achieved acceleration; data: the source data.
        model: ``"sense"`` or ``"2ch"``.
    """

    operator: MultiCoilTwoChannelMRI | MultiCoilMRI
    y: torch.Tensor
    scale: float
    target: torch.Tensor
    data_range: float
    mask: CartesianMask
    data: MRIData
    model: str

    def image(self, out: torch.Tensor) -> torch.Tensor:
        """Generator output ``[B, C, H, W]`` → magnitude ``[H, W]`` of the first member."""
        if isinstance(self.operator, MultiCoilTwoChannelMRI):
            return self.operator.combine(out)[0]
        return out[0, 0].abs()

    def magnitude(self, image: torch.Tensor) -> torch.Tensor:
        """A full-size magnitude image ``[H, W]`` (k-space scale) → the cropped, unscaled one."""
        h, w = self.target.shape
        return center_crop(image, (int(h), int(w))) / self.scale

    def score(self, image: torch.Tensor) -> tuple[float, float]:
        """(PSNR, SSIM) of a cropped magnitude ``[h, w]`` against the target."""
        est, tgt = image.float().cpu(), self.target
        return float(psnr(est[None], tgt[None], self.data_range)[0]), ssim(
            est, tgt, self.data_range
        )


def make_problem(
    data: MRIData,
    acceleration: float = 8.0,
    center_fraction: float | None = None,
    kind: str = "random",
    seed: int = 1,
    model: str = "auto",
) -> MRIProblem:
    """Draw the mask, undersample ``data.kspace`` and scale it (see module docstring).

    Args:
        data: fully sampled k-space and target; acceleration, center_fraction, kind, seed:
            the mask (see :func:`~untrained_cs.mri.masks.cartesian_mask`).
        model: ``"2ch"`` (paper), ``"sense"`` (needs maps and a real image: simulated
            data), or ``"auto"`` = sense when the data has maps, else 2ch.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    if model == "auto":
        model = "sense" if data.maps is not None else "2ch"
    if model == "sense" and data.maps is None:
        raise ValueError("the sense model needs sensitivity maps (simulated data only)")
    _, h, w = data.kspace.shape
    mask = cartesian_mask(w, acceleration, center_fraction, kind, seed)
    operator: MultiCoilTwoChannelMRI | MultiCoilMRI
    if model == "sense":
        assert data.maps is not None
        operator = MultiCoilMRI((1, h, w), data.maps, mask.columns)
    else:
        operator = MultiCoilTwoChannelMRI((2 * data.coils, h, w), mask.columns)
    y = data.kspace[None] * mask.columns.to(torch.float32)
    zero_filled = rss(ifft2c(y[0]))
    scale = PEAK / max(float(zero_filled.max()), 1e-30)
    target = data.target.float()
    return MRIProblem(operator, y * scale, scale, target, float(target.max()), mask, data, model)


def make_mri_generator(
    name: str, problem: MRIProblem, channels: int, layers: int, seed: int
) -> Generator:
    """The un-trained generator: sigmoid image for ``sense``, signed coil images for ``2ch``."""
    shape = problem.operator.in_shape
    signed = problem.model == "2ch"
    if name == "deep-decoder":
        return DeepDecoder(shape, channels=channels, layers=layers, sigmoid=not signed, seed=seed)
    if name == "dip":
        dip = DeepImagePrior(shape, seed=seed)
        return Signed(dip) if signed else dip
    raise ValueError(f"unknown generator {name!r}; choose from {MRI_GENERATORS}")


class Signed(Generator):
    """Maps a sigmoid generator's (0, 1) output to (-1, 1) (coil images have signs)."""

    def __init__(self, inner: Generator) -> None:
        super().__init__(inner.out_shape, inner.seeds)
        self.inner = inner

    def forward(self) -> torch.Tensor:
        return 2.0 * self.inner() - 1.0


@dataclass
class MRIRun:
    """Everything a reconstruction produced (data only; the CLI writes it out).

    Attributes:
        estimate: the generator's final magnitude image ``[h, w]`` (target scale).
        psnr, ssim: its metrics; history: iteration, loss, mse, psnr, ssim per check.
        best_iteration, best_psnr: the oracle-best logged iteration (by PSNR) and its PSNR.
        fit: the engine's result; baselines: ``{name: BaselineResult}`` (zero_filled always).
    """

    estimate: torch.Tensor
    psnr: float
    ssim: float
    history: dict[str, np.ndarray]
    best_iteration: int
    best_psnr: float
    fit: FitResult
    baselines: dict[str, BaselineResult] = field(default_factory=dict)
    baseline_seconds: float = 0.0


class MetricLog:
    """Fit callback: scores the generator's current RSS estimate at every check."""

    def __init__(
        self,
        problem: MRIProblem,
        generator: Generator,
        then: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.problem, self.generator, self.then = problem, generator, then
        self.rows: list[tuple[int, float, float, float]] = []

    def __call__(self, rec: dict[str, Any]) -> None:
        with torch.no_grad():
            out = self.generator()
        est = self.problem.magnitude(self.problem.image(out).cpu())
        ps, ss = self.problem.score(est)
        mse = float((est - self.problem.target).square().mean()) / self.problem.data_range**2
        self.rows.append((int(rec["iteration"]), mse, ps, ss))
        if self.then is not None:
            self.then({**rec, "psnr": np.array([ps])})

    def history(self, result: FitResult) -> dict[str, np.ndarray]:
        """The engine's history (iteration, loss, lr) with mse/psnr/ssim of the magnitude."""
        h = {k: v for k, v in result.history.items() if k in ("iteration", "loss", "lr")}
        by_it = {r[0]: r[1:] for r in self.rows}
        vals = np.array([by_it.get(int(i), (math.nan,) * 3) for i in h["iteration"]])
        h["mse"], h["psnr"], h["ssim"] = (vals[:, j : j + 1] for j in range(3))
        return h


def reconstruct(
    problem: MRIProblem,
    generator: Generator,
    baselines: tuple[str, ...] = ("l1_wavelet", "tv"),
    callback: Callable[[dict[str, Any]], None] | None = None,
    **fit_options: Any,
) -> MRIRun:
    """Fit ``generator`` to the problem's k-space until convergence; score it and baselines.

    Args:
        problem: from :func:`make_problem`; generator: from :func:`make_mri_generator`.
        baselines: solvers besides zero-filling (``"l1_wavelet"``, ``"tv"``), weights picked
            by the ground truth.
        callback: progress callback (gets the magnitude PSNR as ``psnr``).
        fit_options: passed to :func:`~untrained_cs.fit.fit` (optimizer, lr, max_iters, ...).

    Returns:
        an :class:`MRIRun`.
    """
    log = MetricLog(problem, generator, callback)
    result = fit(generator, problem.operator, problem.y, callback=log, **fit_options)
    estimate = problem.magnitude(problem.image(result.estimate))
    ps, ss = problem.score(estimate)
    history = log.history(result)
    best = int(np.nanargmax(history["psnr"][:, 0]))
    start = time.perf_counter()
    model = Model(problem.operator.mask[0].cpu(), _maps(problem), problem.data.real)
    base = run_baselines(
        model,
        problem.y[0].cpu(),
        lambda img: problem.score(problem.magnitude(img)),
        baselines,
    )
    for b in base.values():
        b.image = problem.magnitude(b.image)
    return MRIRun(
        estimate,
        ps,
        ss,
        history,
        int(history["iteration"][best]),
        float(history["psnr"][best, 0]),
        result,
        base,
        time.perf_counter() - start,
    )


def _maps(problem: MRIProblem) -> torch.Tensor | None:
    maps = problem.data.maps
    return None if maps is None else maps.to(torch.complex64)
