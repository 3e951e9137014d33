"""``build(spec)``: the tensors of a problem — ground truth, operator, measurements.

Every random draw takes its seed from :func:`~untrained_cs.problems.seeds.derive_seed`
(operator, noise, MRI mask, smooth-signal coefficients), and noise is added by the one
noise model (:mod:`untrained_cs.operators.noise`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data import load_image
from ..operators import Operator, make_operator
from ..operators.noise import add_noise
from .seeds import derive_seed
from .specs import CSMeasurement, ImageSignal, MRIMeasurement, MRISignal, ProblemSpec, SmoothSignal


@dataclass
class Problem:
    """A built problem: what the methods fit and what their estimates are scored against.

    Attributes:
        spec: what it was built from.
        truth: the ground truth in the space estimates are scored in: an image
            ``[C, H, W]``, a signal ``[1, n]``, or an MRI magnitude ``[h, w]``.
        operator: A (input shape = what a generator outputs); y: ``[1, *out_shape]``.
        noise_std: the std of the noise in y (0 when noiseless).
        data_range: the peak used by PSNR (1 for images in [0, 1]).
        to_image: generator outputs ``[B, *operator.in_shape]`` → estimates ``[B, *truth]``
            (identity for images; RSS, crop and rescale for MRI).
        extra: kind-specific objects (MRI: ``mri`` = the MRI problem with mask and data).
    """

    spec: ProblemSpec
    truth: torch.Tensor
    operator: Operator
    y: torch.Tensor
    noise_std: float = 0.0
    data_range: float = 1.0
    to_image: Callable[[torch.Tensor], torch.Tensor] = field(default=lambda out: out)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.operator.n

    @property
    def m(self) -> int:
        return self.operator.m


def build(spec: ProblemSpec) -> Problem:
    """The problem ``spec`` describes (see module docstring)."""
    if isinstance(spec.signal, MRISignal):
        assert isinstance(spec.measurement, MRIMeasurement)
        return _build_mri(spec, spec.signal, spec.measurement)
    assert isinstance(spec.measurement, CSMeasurement)
    truth = signal_tensor(spec)
    return measure(spec, truth, spec.measurement)


def signal_tensor(spec: ProblemSpec) -> torch.Tensor:
    """The ground-truth signal of a CS spec: ``[C, H, W]`` image or ``[1, n]`` signal."""
    signal = spec.signal
    if isinstance(signal, ImageSignal):
        return load_image(signal.image, signal.size)
    assert isinstance(signal, SmoothSignal)
    from ..theory.basis import smooth_signal

    x = smooth_signal(signal.n, signal.p, seed=derive_seed(spec.seed, "signal"))
    return x.float()[None]


def measure(spec: ProblemSpec, truth: torch.Tensor, meas: CSMeasurement) -> Problem:
    """Measure ``truth`` with the registered operator of ``meas`` and add its noise."""
    n = truth.numel()
    ratio = meas.ratio if meas.ratio is not None else int(meas.m or 0) / n
    if meas.m is not None and meas.m > n:
        raise ValueError(f"m must be <= n = {n}, got {meas.m}")
    op = make_operator(
        meas.operator, tuple(truth.shape), ratio, seed=derive_seed(spec.seed, "operator")
    )
    with torch.no_grad():
        y = op(truth.unsqueeze(0))
    y = add_noise(y, meas.noise_std, derive_seed(spec.seed, "noise"))
    data_range = 1.0 if isinstance(spec.signal, ImageSignal) else float(truth.abs().max())
    return Problem(spec, truth, op, y, meas.noise_std, data_range)


def _build_mri(spec: ProblemSpec, signal: MRISignal, meas: MRIMeasurement) -> Problem:
    from ..mri.data import add_noise as add_kspace_noise
    from ..mri.data import default_image, read_fastmri, simulate
    from ..mri.problem import make_problem

    noise_seed = derive_seed(spec.seed, "noise")
    if signal.kspace is not None:
        data = read_fastmri(Path(signal.kspace), signal.slice)
        if signal.snr is not None:
            data.kspace, data.noise_std = add_kspace_noise(data.kspace, signal.snr, noise_seed)
    else:
        data = simulate(default_image(signal.size), signal.coils, signal.snr, seed=noise_seed)
    mri = make_problem(
        data,
        meas.acceleration,
        meas.center_fraction,
        meas.mask,
        derive_seed(spec.seed, "mask"),
        meas.model,
    )
    return Problem(
        spec,
        mri.target,
        mri.operator,
        mri.y,
        data.noise_std * mri.scale,
        mri.data_range,
        mri.images,
        {"mri": mri},
    )
