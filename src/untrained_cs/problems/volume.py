"""Volume problems: y = A x* + noise for a volume x* ``[1, D, H, W]`` in [0, 1].

The volume is read and scaled by :func:`~untrained_cs.io.volumes.scaled_volume` (divided
by a high percentile of its magnitudes, clipped to [0, 1]: the spec's ``percentile``) and
measured like any CS signal (:func:`~untrained_cs.problems.problem.measure`); a generator
fits the whole volume at once (the deep decoder in 3D). Estimates are scored on the volume
(PSNR with data range 1; SSIM: the mean over slices of the 2D SSIM) and written with the
input's affine when it was NIfTI. Importing this module registers :func:`build_volume` as
the builder of :class:`~untrained_cs.problems.specs.VolumeSignal` specs (the package
``untrained_cs.problems`` imports it, so :func:`~untrained_cs.problems.build` always can).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..io.volumes import scaled_volume
from .problem import Problem, measure, register_builder
from .specs import CSMeasurement, ProblemSpec, VolumeSignal


@dataclass
class VolumeProblem(Problem):
    """A built volume problem: truth ``[1, D, H, W]`` in [0, 1], compared by the engine itself.

    Attributes:
        affine: the input's 4 x 4 voxel-to-scanner affine (NIfTI inputs), else None.
        peak: what the stored intensities were divided by (estimate x peak: their units).
    """

    affine: np.ndarray | None = field(default=None, kw_only=True)
    peak: float = field(default=1.0, kw_only=True)

    @property
    def signed_output(self) -> bool:
        return False  # intensities in [0, 1]: a sigmoid output

    @property
    def fit_truth(self) -> torch.Tensor | None:
        return self.truth

    def facts(self) -> dict[str, Any]:
        """The volume's shape [D, H, W], its scaling and whether it carries an affine."""
        signal = self.spec.signal
        assert isinstance(signal, VolumeSignal)
        return {
            "volume_shape": list(self.known_truth.shape[1:]),
            "source": signal.volume,
            "intensity_peak": self.peak,
            "percentile": signal.percentile,
            "affine": None if self.affine is None else self.affine.tolist(),
            "noise_std": self.noise_std,
        }


def build_volume(spec: ProblemSpec) -> VolumeProblem:
    """The volume problem of ``spec``: the scaled volume, measured with the spec's operator
    (drawn from the root seed) and noise."""
    signal, meas = spec.signal, spec.measurement
    assert isinstance(signal, VolumeSignal) and isinstance(meas, CSMeasurement)
    truth, affine, peak = scaled_volume(signal.volume, signal.slice_shape, signal.percentile)
    cs = measure(spec, truth, meas)
    return VolumeProblem(
        spec, truth, cs.operator, cs.y, cs.noise_std, 1.0, affine=affine, peak=peak
    )


register_builder(VolumeSignal, build_volume)
