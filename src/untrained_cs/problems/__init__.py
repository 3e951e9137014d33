"""Problems: frozen JSON-able specs, the one seed derivation, and ``build(spec)``."""

from .problem import Problem, build, measure, signal_tensor
from .seeds import derive_seed, member_seeds
from .specs import (
    CSMeasurement,
    ImageSignal,
    MRIMeasurement,
    MRISignal,
    ProblemSpec,
    SmoothSignal,
    spec_hash,
)

__all__ = [
    "CSMeasurement",
    "ImageSignal",
    "MRIMeasurement",
    "MRISignal",
    "Problem",
    "ProblemSpec",
    "SmoothSignal",
    "build",
    "derive_seed",
    "measure",
    "member_seeds",
    "signal_tensor",
    "spec_hash",
]
