"""Un-trained generators G(θ): deep decoder, two-layer ReLU(UC)v, linear Jc, deep image prior,
and the Figure-4 notebook's decoder."""

from .base import Generator
from .deep_decoder import DeepDecoder, size_schedule
from .dip import DeepImagePrior
from .factory import GENERATORS, make_generator
from .figure4_decoder import Figure4Decoder
from .kernels import circulant_norm, gaussian_kernel, make_kernel, triangular_kernel
from .linear import LinearGenerator
from .two_layer import TwoLayerGenerator

__all__ = [
    "GENERATORS",
    "DeepDecoder",
    "DeepImagePrior",
    "Figure4Decoder",
    "Generator",
    "LinearGenerator",
    "TwoLayerGenerator",
    "circulant_norm",
    "gaussian_kernel",
    "make_generator",
    "make_kernel",
    "size_schedule",
    "triangular_kernel",
]
