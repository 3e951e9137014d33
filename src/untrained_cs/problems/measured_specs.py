"""Specs of measured data: a signal known by its shape (:class:`MeasuredSignal`) and the
measurements a user brings with their operator (:class:`MeasuredData`). Their files are
keyed by content hashes (filled in from the files when not given), which stand for the
paths in a spec's key (:meth:`~.specs.ProblemSpec.key_dict`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..operators.registry import OPERATORS, operator_text, parse_operator
from .checks import check_int


def _file_hash(spec: Any, path_field: str, hash_field: str) -> None:
    """Fill ``hash_field`` from the file at ``path_field`` when it was not given."""
    path = getattr(spec, path_field)
    if path is None:
        if getattr(spec, hash_field) is not None:
            raise ValueError(f"{hash_field} is given but {path_field} is not")
        return
    if not isinstance(path, str) or not path:
        raise ValueError(f"{path_field} must be a file path, got {path!r}")
    if getattr(spec, hash_field) is None:
        from ..io.arrays import content_hash

        try:
            object.__setattr__(spec, hash_field, content_hash(path))
        except OSError:
            raise ValueError(f"{path_field} file {path!r}: no such file") from None


@dataclass(frozen=True)
class MeasuredSignal:
    """A signal known only through measurements a user brings (:class:`MeasuredData`).

    ``shape`` is the signal's shape as the user's arrays hold it: ``(n,)`` for a 1D signal,
    ``(H, W)`` for a grey image, ``(H, W, C)`` (channel-last, C = 1 or 3) for a colour one;
    the fit's signal is ``[1, n]`` or ``[C, H, W]``. ``truth``: an optional ground-truth
    file of that shape (scores PSNR/SSIM; its content hash is kept). ``signed``: the signal
    may take any real values (no sigmoid on the generator; its output scaled to the data);
    by default an image is in [0, 1] as the bundled ones are.
    """

    kind: ClassVar[str] = "measured"
    #: the fields naming files: left out of the key (:meth:`ProblemSpec.key_dict`), whose
    #: content hashes stand for them
    PATHS: ClassVar[tuple[str, ...]] = ("truth",)
    shape: tuple[int, ...] = (64, 64)
    truth: str | None = None
    truth_key: str | None = None
    truth_hash: str | None = None
    signed: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.shape, list | tuple) or not 1 <= len(self.shape) <= 3:
            raise ValueError(f"shape must be n, (H, W) or (H, W, C), got {self.shape!r}")
        for side in self.shape:
            check_int("shape", side, 1)
        shape = tuple(int(v) for v in self.shape)
        object.__setattr__(self, "shape", shape)
        if len(shape) == 3 and shape[2] not in (1, 3):
            raise ValueError(f"the last entry of shape (H, W, C) is C = 1 or 3, got {shape}")
        if len(shape) >= 2 and min(shape[:2]) < 2:
            raise ValueError(f"an image needs H, W >= 2, got shape {shape}")
        if not isinstance(self.signed, bool):
            raise ValueError(f"signed must be true or false, got {self.signed!r}")
        _file_hash(self, "truth", "truth_hash")

    @property
    def signal_shape(self) -> tuple[int, ...]:
        """The fit's signal shape: ``(1, n)`` or ``(C, H, W)``."""
        if len(self.shape) == 1:
            return (1, self.shape[0])
        channels = self.shape[2] if len(self.shape) == 3 else 1
        return (channels, self.shape[0], self.shape[1])


@dataclass(frozen=True)
class MeasuredData:
    """Measurements y a user brings, with their operator: a dense matrix file ``matrix``
    (m x n, columns in the order of the signal's entries as ``shape`` holds them, row-major)
    or a registered operator of this tool by name (``operator``, ``NAME[:k=v]``) drawn with
    ``operator_seed`` (None: the seed a simulated run with the spec's root seed draws, so a
    run's own A is named, not shipped). ``*_key`` names the array in a container file
    (``.npz``, ``.h5``, ``.mat``); the files' content hashes key the spec.
    """

    kind: ClassVar[str] = "measured"
    PATHS: ClassVar[tuple[str, ...]] = ("measurements", "matrix")
    measurements: str = ""
    measurements_key: str | None = None
    measurements_hash: str | None = None
    matrix: str | None = None
    matrix_key: str | None = None
    matrix_hash: str | None = None
    operator: str | None = None
    operator_seed: int | None = None

    def __post_init__(self) -> None:
        if not self.measurements:
            raise ValueError("measured data need a measurements file (y)")
        _file_hash(self, "measurements", "measurements_hash")
        _file_hash(self, "matrix", "matrix_hash")
        if (self.matrix is None) == (self.operator is None):
            raise ValueError("give the operator of the measurements: a matrix file or a name")
        if self.operator is not None:
            if not isinstance(self.operator, str):
                raise ValueError(f"operator must be a name, got {self.operator!r}")
            name, options = parse_operator(self.operator)
            if not OPERATORS[name].uses_ratio:
                raise ValueError(f"operator {name!r} is deterministic: give its y with the "
                                 "simulated path, or its matrix")  # fmt: skip
            object.__setattr__(self, "operator", operator_text(name, options))
        elif self.operator_seed is not None:
            raise ValueError("operator_seed applies to a named operator, not to a matrix file")
        if self.operator_seed is not None:
            check_int("operator_seed", self.operator_seed, 0)
