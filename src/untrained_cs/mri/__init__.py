"""Accelerated MRI: centred FFTs, Cartesian masks, coil maps, forward models, data, baselines.

The forward models are operators registered in the shared registry (``mri-single``,
``mri-multicoil``, ``mri-multicoil-2ch``); the reconstruction uses the same fit engine.
"""

from .coils import simulated_maps
from .fft import fft2c, ifft2c, rss
from .masks import MASK_KINDS, CartesianMask, cartesian_mask, default_center_fraction
from .operators import MultiCoilMRI, MultiCoilTwoChannelMRI, SingleCoilMRI

__all__ = [
    "MASK_KINDS",
    "CartesianMask",
    "MultiCoilMRI",
    "MultiCoilTwoChannelMRI",
    "SingleCoilMRI",
    "cartesian_mask",
    "default_center_fraction",
    "fft2c",
    "ifft2c",
    "rss",
    "simulated_maps",
]
