"""Problems: frozen JSON-able specs, the one seed derivation, ``build(spec)`` and the typed
:class:`Problem` interface the pipeline reads."""

from .measured import MeasuredProblem, build_measured
from .problem import CSProblem, Problem, build, measure, register_builder, signal_tensor
from .seeds import derive_seed, member_seeds
from .specs import (
    CSMeasurement,
    ImageSignal,
    MeasuredData,
    MeasuredSignal,
    MRIMeasurement,
    MRISignal,
    ProblemSpec,
    SmoothSignal,
    spec_hash,
)

__all__ = [
    "CSMeasurement",
    "CSProblem",
    "ImageSignal",
    "MeasuredData",
    "MeasuredProblem",
    "MeasuredSignal",
    "MRIMeasurement",
    "MRISignal",
    "Problem",
    "ProblemSpec",
    "SmoothSignal",
    "build",
    "build_measured",
    "derive_seed",
    "measure",
    "member_seeds",
    "register_builder",
    "signal_tensor",
    "spec_hash",
]
