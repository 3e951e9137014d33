"""Accelerated MRI: centred FFTs, Cartesian masks, coil maps, forward models, data, baselines.

Coil maps of real data are estimated by ESPIRiT (:func:`espirit_maps`). The forward
models are operators registered in the shared registry (``mri-single``,
``mri-multicoil``, ``mri-multicoil-2ch``), and :mod:`.problem` registers the builder of MRI
problem specs with :func:`untrained_cs.problems.build`; the reconstruction uses the same
pipeline and fit engine.
"""

from .coils import simulated_maps
from .espirit import espirit_maps, map_error
from .fft import fft2c, ifft2c, rss
from .masks import MASK_KINDS, CartesianMask, cartesian_mask, default_center_fraction
from .operators import MultiCoilMRI, MultiCoilTwoChannelMRI, SingleCoilMRI
from .problem import KSpaceProblem, MRIProblem

__all__ = [
    "MASK_KINDS",
    "CartesianMask",
    "KSpaceProblem",
    "MultiCoilMRI",
    "MRIProblem",
    "MultiCoilTwoChannelMRI",
    "SingleCoilMRI",
    "cartesian_mask",
    "default_center_fraction",
    "espirit_maps",
    "fft2c",
    "ifft2c",
    "map_error",
    "rss",
    "simulated_maps",
]
