"""Problem specs: small, frozen, JSON-serialisable descriptions of every problem solved.

A :class:`ProblemSpec` is a signal (a bundled or file image at a size, a p-smooth 1D signal,
an MRI slice, a volume), a measurement model (a registered CS operator with m or m/n and
noise, or undersampled multi-coil k-space) and one root seed; every random draw derives from
that seed (:mod:`untrained_cs.problems.seeds`). The field defaults here are the project's defaults:
the command line reads them. Values are checked on construction (``ValueError`` naming the
field), so a spec that exists is a valid one. :func:`spec_hash` is stable across processes
and machines (the sweep store keys results by it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..operators.registry import OPERATORS, operator_text, parse_operator
from .checks import check_int, check_real
from .measured_specs import MeasuredData, MeasuredSignal
from .seeds import check_root

SCHEMA = 1
#: optional fields left out of a spec's dict while None (added after specs were first keyed)
OMITTED_WHEN_NONE = ("channels",)
#: the Cartesian mask kinds and the forward models of MRI specs (the MRI package reads these
#: names from here: the specs check them without importing MRI code)
MASK_KINDS = ("random", "equispaced")
MRI_MODELS = ("auto", "sense", "2ch")


@dataclass(frozen=True)
class ImageSignal:
    """A bundled image (by name) or an image file (by path), resized to ``size`` x ``size``
    or, with ``size = (H, W)``, to H x W (any sizes, odd and prime too); the image is first
    centre-cropped to the target's aspect, never distorted. ``channels``: 1 (luminance), 3
    (RGB) or None (the file's own: colour stays colour).

    ``channels`` is left out of the spec's dict while None (:data:`OMITTED_WHEN_NONE`), so
    the keys of grey-image specs stay those of earlier versions.
    """

    kind: ClassVar[str] = "image"
    image: str = "camera"
    size: int | tuple[int, int] = 64
    channels: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.image, str) or not self.image:
            raise ValueError(f"image must be a name or a path, got {self.image!r}")
        if isinstance(self.size, list | tuple):  # (H, W); a list from JSON
            if len(self.size) != 2:
                raise ValueError(f"size must be N or (H, W), got {self.size!r}")
            for side in self.size:
                check_int("size", side, 8)
            shape = tuple(int(v) for v in self.size)
            object.__setattr__(self, "size", shape[0] if shape[0] == shape[1] else shape)
        else:
            check_int("size", self.size, 8)
        if self.channels not in (None, 1, 3):
            raise ValueError(
                f"channels must be 1, 3 or None (the file's own), got {self.channels!r}"
            )


@dataclass(frozen=True)
class SmoothSignal:
    """A unit-norm p-smooth signal of length n (iid normal coefficients on eq (10)'s first p)."""

    kind: ClassVar[str] = "smooth"
    n: int = 256
    p: int = 8

    def __post_init__(self) -> None:
        check_int("n", self.n, 2)
        check_int("p", self.p, 1)
        if self.p > self.n:
            raise ValueError(f"p must be <= n, got p = {self.p}, n = {self.n}")


@dataclass(frozen=True)
class MRISignal:
    """dipy's T1 slice with ``coils`` simulated coils, or a fastMRI ``.h5`` file's slice; a
    ``slice`` without a file is that slice of the bundled 10-slice brain volume (the
    ``volume`` command's), with simulated coils."""

    kind: ClassVar[str] = "mri"
    kspace: str | None = None
    slice: int | None = None
    size: int | None = None
    coils: int = 8
    snr: float | None = None

    def __post_init__(self) -> None:
        if self.slice is not None:  # of the file, or without one of the bundled brain volume
            check_int("slice", self.slice, 0)
        if self.size is not None:
            if self.kspace is not None:
                raise ValueError("size resamples the default slice only; drop it with kspace")
            check_int("size", self.size, 32)
        check_int("coils", self.coils, 1)
        if self.snr is not None:
            check_real("snr", self.snr, -math.inf)


@dataclass(frozen=True)
class VolumeSignal:
    """A volume ``[1, D, H, W]``: dipy's bundled brain (``"brain"``, 128 x 128 x 10), a NIfTI
    file or an array file (``[D, H, W]``), each slice resized to ``size`` x ``size`` or
    ``size = (H, W)`` (None: as stored). Intensities are divided by their ``percentile``-th
    percentile and clipped to [0, 1] (100: by the maximum, nothing clipped).
    """

    kind: ClassVar[str] = "volume"
    volume: str = "brain"
    size: int | tuple[int, int] | None = 64
    percentile: float = 99.9

    def __post_init__(self) -> None:
        if not isinstance(self.volume, str) or not self.volume:
            raise ValueError(f"volume must be a name or a path, got {self.volume!r}")
        if isinstance(self.size, list | tuple):  # (H, W); a list from JSON
            if len(self.size) != 2:
                raise ValueError(f"size must be N, (H, W) or None, got {self.size!r}")
            for side in self.size:
                check_int("size", side, 8)
            shape = tuple(int(v) for v in self.size)
            object.__setattr__(self, "size", shape[0] if shape[0] == shape[1] else shape)
        elif self.size is not None:
            check_int("size", self.size, 8)
        check_real("percentile", self.percentile, 50.0, 100.0)

    @property
    def slice_shape(self) -> tuple[int, int] | None:
        """(H, W) each slice is resized to, or None."""
        if self.size is None or isinstance(self.size, tuple):
            return self.size
        return (self.size, self.size)


@dataclass(frozen=True)
class CSMeasurement:
    """y = A x* + noise with a registered operator; m given directly or as ratio m/n.

    ``operator`` is a registry name with its options, ``NAME`` or ``NAME:key=value,…``
    (:func:`~untrained_cs.operators.registry.parse_operator`), stored in its canonical form
    (only the options that differ from the defaults), so equal settings hash alike. A given
    ``m`` takes precedence: the ratio is then stored as None; operators whose m follows from
    their options (identity, downsample, blur) store neither.
    """

    kind: ClassVar[str] = "cs"
    operator: str = "gaussian"
    ratio: float | None = 0.25
    m: int | None = None
    noise_std: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.operator, str):
            raise ValueError(f"operator must be a name, got {self.operator!r}")
        name, options = parse_operator(self.operator)
        object.__setattr__(self, "operator", operator_text(name, options))
        check_real("noise_std", self.noise_std, 0.0)
        if not OPERATORS[name].uses_ratio:
            object.__setattr__(self, "ratio", None)
            object.__setattr__(self, "m", None)
            return
        if self.m is not None:
            object.__setattr__(self, "ratio", None)
        elif self.ratio is None:
            raise ValueError("give one of ratio and m")
        if self.ratio is not None:
            check_real("ratio", self.ratio, 0.0, 1.0, open_low=True)
        if self.m is not None:
            check_int("m", self.m, 1)


@dataclass(frozen=True)
class MRIMeasurement:
    """Cartesian undersampling of multi-coil k-space and the forward model fitted."""

    kind: ClassVar[str] = "mri"
    acceleration: float = 8.0
    center_fraction: float | None = None
    mask: str = "random"
    model: str = "auto"

    def __post_init__(self) -> None:
        check_real("acceleration", self.acceleration, 1.0)
        if self.center_fraction is not None:
            check_real("center_fraction", self.center_fraction, 0.0, 1.0)
        if self.mask not in MASK_KINDS:
            raise ValueError(f"mask must be one of {', '.join(MASK_KINDS)}, got {self.mask!r}")
        if self.model not in MRI_MODELS:
            raise ValueError(f"model must be one of {', '.join(MRI_MODELS)}, got {self.model!r}")


Signal = ImageSignal | SmoothSignal | MRISignal | VolumeSignal | MeasuredSignal
Measurement = CSMeasurement | MRIMeasurement | MeasuredData
SIGNALS: dict[str, type] = {
    c.kind: c for c in (ImageSignal, SmoothSignal, MRISignal, VolumeSignal, MeasuredSignal)
}
MEASUREMENTS: dict[str, type] = {c.kind: c for c in (CSMeasurement, MRIMeasurement, MeasuredData)}
#: the signal kinds that need their own measurement kind (the others take CS measurements)
PAIRED = {"mri": "mri", "measured": "measured"}


@dataclass(frozen=True)
class ProblemSpec:
    """A signal, how it is measured, and the root seed of every random draw."""

    signal: Signal = dataclasses.field(default_factory=ImageSignal)
    measurement: Measurement = dataclasses.field(default_factory=CSMeasurement)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "seed", check_root(self.seed))
        if PAIRED.get(self.signal.kind, "cs") != self.measurement.kind:
            raise ValueError(
                f"a {self.signal.kind} signal cannot be measured by the "
                f"{self.measurement.kind} model"
            )

    @property
    def noisy(self) -> bool:
        """The data carry noise: noise is added, or the k-space is measured (a real file)."""
        m, s = self.measurement, self.signal
        if isinstance(m, MeasuredData):
            return True  # real data: the noise level is unknown
        if isinstance(m, CSMeasurement):
            return m.noise_std > 0
        return isinstance(s, MRISignal) and (s.snr is not None or s.kspace is not None)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (``kind`` keys name the signal and measurement types)."""
        signal = {"kind": self.signal.kind, **dataclasses.asdict(self.signal)}
        for name in OMITTED_WHEN_NONE:
            if signal.get(name, 0) is None:
                del signal[name]
        return {
            "signal": signal,
            "measurement": {"kind": self.measurement.kind, **dataclasses.asdict(self.measurement)},
            "seed": self.seed,
        }

    def key_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` without the file paths that content hashes stand for: the same
        files anywhere give the same key (:func:`spec_hash`)."""
        d = self.to_dict()
        for part, spec in (("signal", self.signal), ("measurement", self.measurement)):
            for name in getattr(spec, "PATHS", ()):
                d[part].pop(name, None)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProblemSpec:
        """Inverse of :meth:`to_dict`; unknown kinds or fields raise ``ValueError``."""
        return cls(
            signal=_part(SIGNALS, "signal", d.get("signal", {})),
            measurement=_part(MEASUREMENTS, "measurement", d.get("measurement", {})),
            seed=d.get("seed", 0),
        )

    def replace(self, **changes: Any) -> ProblemSpec:
        """A copy with top-level fields or ``signal.<f>`` / ``measurement.<f>`` changed."""
        d = self.to_dict()
        for key, value in changes.items():
            part, _, name = key.rpartition(".")
            target = d[part] if part else d
            if part and name not in target:
                raise ValueError(f"unknown field {key!r}")
            target[name] = value
        return ProblemSpec.from_dict(d)


def _part(kinds: dict[str, type], what: str, d: dict[str, Any]) -> Any:
    d = dict(d)
    kind = d.pop("kind", next(iter(kinds)))
    if kind not in kinds:
        raise ValueError(f"unknown {what} kind {kind!r}; choose from {', '.join(kinds)}")
    cls = kinds[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"unknown {kind} {what} field(s): {', '.join(unknown)}")
    return cls(**d)


def canonical_json(obj: Any) -> str:
    """Key-sorted compact JSON: the text a hash is taken of."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def spec_hash(*parts: Any) -> str:
    """A stable 16-hex-digit key of specs (ProblemSpec, method specs, dicts)."""
    data = [
        p.key_dict() if hasattr(p, "key_dict") else p.to_dict() if hasattr(p, "to_dict") else p
        for p in parts
    ]
    text = canonical_json({"schema": SCHEMA, "parts": data})
    return hashlib.sha256(text.encode()).hexdigest()[:16]
