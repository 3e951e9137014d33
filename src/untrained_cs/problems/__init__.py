"""Problems: frozen JSON-able specs, the one seed derivation, ``build(spec)`` and the typed
:class:`Problem` interface the pipeline reads. Importing the package registers the volume
problems' builder (:mod:`.volume`)."""

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
    VolumeSignal,
    spec_hash,
)
from .volume import VolumeProblem, build_volume

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
    "VolumeProblem",
    "VolumeSignal",
    "build",
    "build_measured",
    "build_volume",
    "derive_seed",
    "measure",
    "member_seeds",
    "register_builder",
    "signal_tensor",
    "spec_hash",
]
