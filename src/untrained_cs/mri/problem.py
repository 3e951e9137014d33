"""MRI problems: the mask, the scaled k-space, how estimates are scored, and ``build``.

Two forward models: ``2ch`` (the paper's set-up, ``mri-multicoil-2ch``): the generator
outputs (re, im) of every coil image and the estimate is their root-sum-of-squares; and
``sense`` (``mri-multicoil``): with known sensitivity maps (simulated data) the generator
outputs the real image itself. The k-space is scaled so that the zero-filled RSS image peaks
at :data:`PEAK` and estimates are scaled back. Estimates are scored on the centre-cropped
magnitude (PSNR with the target's maximum as data range, as fastMRI does, and SSIM).

:class:`KSpaceProblem` is the k-space side alone (from any :class:`~untrained_cs.mri.data.
MRIData`); :class:`MRIProblem` is the :class:`~untrained_cs.problems.Problem` that
:func:`untrained_cs.problems.build` returns for an MRI spec: importing this module
registers :func:`build_problem` as the builder of :class:`~untrained_cs.problems.MRISignal`
specs (the problems package imports no MRI code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..operators import Operator
from ..problems import MRIMeasurement, MRISignal, Problem, ProblemSpec, derive_seed
from ..problems.problem import register_builder
from ..problems.specs import MRI_MODELS
from .data import MRIData, brain_slice, center_crop, default_image, read_fastmri, simulate
from .data import add_noise as add_kspace_noise
from .espirit import espirit_maps
from .fft import ifft2c, rss
from .masks import CartesianMask, cartesian_mask, center_columns
from .operators import MultiCoilMRI, MultiCoilTwoChannelMRI

#: the zero-filled image peaks at this after scaling (headroom below the sigmoid's 1).
PEAK = 1.0
#: the 2ch decoder's output is scaled so that it starts near max|zero-filled coil image| /
#: COIL_PEAK (without a sigmoid its random start is far larger than the coil images, and the
#: part of it in the unmeasured k-space would stay); chosen by measurement against the
#: published notebook's scaling (bench/RESULTS.md, "Figure 5 settings")
COIL_PEAK = 40.0


@dataclass
class KSpaceProblem:
    """Undersampled k-space ready to fit, and what is needed to score an estimate.

    Attributes:
        operator: ``MultiCoilTwoChannelMRI`` (``2ch``: the generator outputs (re, im) per
            coil, RSS estimate) or ``MultiCoilMRI`` (``sense``: known maps, the generator
            outputs the real image).
        y: scaled measured k-space ``[1, coils, H, W]`` (complex64).
        scale: the factor applied to the k-space (estimates are divided by it).
        target: ground-truth magnitude ``[h, w]`` (None: a test file's undersampled
            k-space, no truth); data_range: its maximum (1 without a target).
        mask: the column mask and its achieved acceleration; data: the source data.
        model: ``"sense"`` or ``"2ch"``.
    """

    operator: MultiCoilTwoChannelMRI | MultiCoilMRI
    y: torch.Tensor
    scale: float
    target: torch.Tensor | None
    data_range: float
    mask: CartesianMask
    data: MRIData
    model: str

    def images(self, out: torch.Tensor) -> torch.Tensor:
        """Generator outputs ``[B, C, H, W]`` → the scored magnitudes ``[B, h, w]`` (RSS of
        the coil images for ``2ch``, |x| for ``sense``; centre-cropped, unscaled)."""
        if isinstance(self.operator, MultiCoilTwoChannelMRI):
            return self.magnitude(self.operator.combine(out))
        return self.magnitude(out[:, 0].abs())

    def output_scale(self, coil_peak: float = COIL_PEAK) -> float:
        """The generator's output multiplier: max|zero-filled coil image| / ``coil_peak`` for
        ``2ch`` (see :data:`COIL_PEAK`), 1 for ``sense`` (a sigmoid image in (0, 1))."""
        if not isinstance(self.operator, MultiCoilTwoChannelMRI):
            return 1.0
        y = self.y.to(self.operator.mask.device)
        return float(self.operator.unsample(y).abs().max()) / coil_peak

    def magnitude(self, image: torch.Tensor) -> torch.Tensor:
        """A full-size magnitude image ``[H, W]`` (k-space scale) → the cropped, unscaled one."""
        assert self.data.crop is not None
        return center_crop(image, self.data.crop) / self.scale

    def score(self, image: torch.Tensor) -> tuple[float, float]:
        """(PSNR, SSIM) of a cropped magnitude ``[h, w]`` against the target."""
        from ..metrics import psnr, ssim  # scikit-image: kept out of the package's import

        if self.target is None:
            raise ValueError(f"{self.data.source} has no ground truth to score against")
        est, tgt = image.float().cpu(), self.target
        return float(psnr(est[None], tgt[None], self.data_range)[0]), ssim(
            est, tgt, self.data_range
        )

    def outside_center(self) -> torch.Tensor:
        """bool ``[1, coils, H, W]``: the measured entries outside the fully sampled centre."""
        columns = self.mask.columns
        center = center_columns(columns.numel(), self.mask.center_fraction)
        return (columns.bool() & ~center.bool()).expand(*self.y.shape).clone()


def make_problem(
    data: MRIData,
    acceleration: float = 8.0,
    center_fraction: float | None = None,
    kind: str = "random",
    seed: int = 1,
    model: str = "auto",
) -> KSpaceProblem:
    """Draw the mask, undersample ``data.kspace`` and scale it (see module docstring).

    Args:
        data: fully sampled k-space and target; acceleration, center_fraction, kind, seed:
            the mask (see :func:`~untrained_cs.mri.masks.cartesian_mask`).
        model: ``"2ch"`` (paper), ``"sense"`` (the data's maps when known, simulated data;
            else maps estimated by ESPIRiT from the fully sampled centre of the undersampled
            k-space, :func:`~.espirit.espirit_maps`), or ``"auto"`` = sense when the data
            has maps, else 2ch.
    """
    if model not in MRI_MODELS:
        raise ValueError(f"model must be one of {MRI_MODELS}, got {model!r}")
    if model == "auto":
        model = "sense" if data.maps is not None else "2ch"
    if model == "sense" and data.coils < 2:
        raise ValueError("the sense model needs multi-coil k-space (this file has one coil)")
    _, h, w = data.kspace.shape
    mask = file_mask(data) or cartesian_mask(w, acceleration, center_fraction, kind, seed)
    operator: MultiCoilTwoChannelMRI | MultiCoilMRI
    if model == "sense":
        maps = data.maps
        if maps is None:  # from the data: the centre the mask samples fully
            centre = int(center_columns(w, mask.center_fraction).sum())
            sampled = data.kspace * mask.columns.to(torch.float32)
            # no crop: a map of zeros would leave the image free where there is no signal
            maps, _ = espirit_maps(sampled, center_columns=centre, crop=0.0)
        operator = MultiCoilMRI((1, h, w), maps, mask.columns)
    else:
        operator = MultiCoilTwoChannelMRI((2 * data.coils, h, w), mask.columns)
    y = data.kspace[None] * mask.columns.to(torch.float32)
    zero_filled = rss(ifft2c(y[0]))
    scale = PEAK / max(float(zero_filled.max()), 1e-30)
    target = None if data.target is None else data.target.float()
    peak = 1.0 if target is None else float(target.max())
    return KSpaceProblem(operator, y * scale, scale, target, peak, mask, data, model)


def file_mask(data: MRIData) -> CartesianMask | None:
    """The mask a fastMRI test file's k-space was undersampled with (None: no such mask):
    the file's columns, its ``acceleration`` and ``num_low_frequency`` attributes when
    present (else W / sampled and the sampled run around the centre)."""
    facts = data.facts
    if facts is None or facts.mask is None:
        return None
    columns = torch.from_numpy(facts.mask.astype(np.float32))
    w = columns.numel()
    low = facts.num_low_frequency
    if low is None:  # the contiguous sampled run around the centre
        lo = hi = w // 2
        while lo > 0 and facts.mask[lo - 1]:
            lo -= 1
        while hi < w and facts.mask[hi]:
            hi += 1
        low = hi - lo
    acceleration = facts.acceleration or w / max(int(facts.mask.sum()), 1)
    return CartesianMask(columns, float(acceleration), low / w, "file", 0)


@dataclass
class MRIProblem(Problem):
    """A built MRI problem: truth, operator, y and data_range are those of ``mri``.

    Attributes:
        mri: the k-space side (mask, scale, source data, forward model).
    """

    mri: KSpaceProblem = field(kw_only=True)

    @property
    def signed_output(self) -> bool:
        """The 2ch model's (re, im) coil images have signs; sense fits a sigmoid image."""
        return self.mri.model == "2ch"

    @property
    def fit_truth(self) -> torch.Tensor | None:
        return None  # scored on the cropped magnitude, through to_image

    def output_scale(self) -> float:
        return self.mri.output_scale()

    def to_image(self, out: torch.Tensor) -> torch.Tensor:
        return self.mri.images(out)

    def holdout_candidates(self) -> torch.Tensor | None:
        """The sampled entries outside the fully sampled centre (the centre stays fitted)."""
        return self.mri.outside_center()

    def zero_filled(self) -> torch.Tensor | None:
        """The RSS of the zero-filled coil images, cropped and unscaled."""
        from .baselines import zero_filled

        return zero_filled(self.mri)

    @property
    def baseline_grid(self) -> Mapping[str, Sequence[float]] | None:
        from .baselines import GRIDS

        return GRIDS

    @property
    def baseline_options(self) -> Mapping[str, Mapping[str, Any]]:
        """The MRI solvers run to convergence (:data:`~.baselines.OPTIONS`)."""
        from .baselines import OPTIONS

        return OPTIONS

    def stack(
        self, problems: Sequence[Problem], ensemble: int = 1
    ) -> tuple[Operator, torch.Tensor] | None:
        """Slices measured alike (one mask, one model, one shape) as one batch: their k-space
        stacked; the 2ch model's operator shared, SENSE's with each slice's maps."""
        mris = [p.mri for p in problems if isinstance(p, MRIProblem)]
        if len(mris) != len(problems):
            raise ValueError("MRI problems stack with MRI problems only")
        first = self.mri
        for m in mris:
            if m.model != first.model or not torch.equal(m.mask.columns, first.mask.columns):
                raise ValueError("slices fitted as one batch need one mask and one model")
            if m.y.shape != first.y.shape:
                raise ValueError("slices fitted as one batch need one k-space shape")
        y = torch.cat([m.y for m in mris]).repeat_interleave(ensemble, dim=0)
        if isinstance(first.operator, MultiCoilMRI):
            maps = torch.stack([_maps(m.operator) for m in mris])
            maps = maps.repeat_interleave(ensemble, dim=0)
            return MultiCoilMRI(first.operator.in_shape, maps, first.mask.columns), y
        return first.operator, y

    def facts(self) -> dict[str, Any]:
        """The model, achieved acceleration, k-space shape, source and noise level."""
        mri = self.mri
        return {
            "model": mri.model,
            "achieved_acceleration": mri.mask.achieved_acceleration,
            "image_shape": list(mri.data.kspace.shape),
            "source": mri.data.source,
            "slice_index": mri.data.slice_index,
            "noise_std": self.noise_std,
        }


def _maps(operator: Operator) -> torch.Tensor:
    assert isinstance(operator, MultiCoilMRI)
    return operator.maps


def build_problem(spec: ProblemSpec) -> MRIProblem:
    """The MRI problem of ``spec``: its slice (dipy's simulated, or a fastMRI file's with
    optional added noise), the mask drawn from the root seed, the scaled k-space."""
    signal, meas = spec.signal, spec.measurement
    assert isinstance(signal, MRISignal) and isinstance(meas, MRIMeasurement)
    noise_seed = derive_seed(spec.seed, "noise")
    if signal.kspace is not None:
        data = read_fastmri(Path(signal.kspace), signal.slice)
        if signal.snr is not None:
            data.kspace, data.noise_std = add_kspace_noise(data.kspace, signal.snr, noise_seed)
    else:
        image = (default_image(signal.size) if signal.slice is None
                 else brain_slice(signal.slice, signal.size))  # fmt: skip
        data = simulate(image, signal.coils, signal.snr, seed=noise_seed)
    mask_seed = derive_seed(spec.seed, "mask")
    mri = make_problem(
        data, meas.acceleration, meas.center_fraction, meas.mask, mask_seed, meas.model
    )
    return MRIProblem(
        spec, mri.target, mri.operator, mri.y, data.noise_std * mri.scale, mri.data_range, mri=mri
    )


register_builder(MRISignal, build_problem)
