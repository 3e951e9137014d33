"""Measured-data problems: y and A from a user's files, with no image to measure.

The signal is known by its shape only (:class:`~.specs.MeasuredSignal`); ``y`` comes from a
file, ``A`` from a dense matrix file or by name from the operator registry with a seed
(:class:`~.specs.MeasuredData`). Everything is checked before any array is loaded in full:
shapes agree (``A`` is m x n with n the entries of the signal's shape, ``y`` has m
entries), values are finite and numeric, the dense matrix fits in memory; and the files are
those the spec was made from (their content hashes).

Layout: the user's signal is ``shape`` in row-major order, channel-last for colour
(``(H, W, C)``, as scikit-image holds images), so a matrix's columns follow that order;
the fit's signal is ``[C, H, W]``, and the matrix's columns are permuted once to it. A
named operator acts on the tool's own ``[C, H, W]`` order, as when it drew y itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..io.arrays import array_shape, content_hash, read_array
from ..operators import Operator, make_operator
from ..operators.matrix import MatrixOperator
from ..operators.registry import parse_operator
from ..resources import check_memory
from .problem import Problem, register_builder, rms_estimate
from .seeds import derive_seed
from .specs import MeasuredData, MeasuredSignal, ProblemSpec


@dataclass
class MeasuredProblem(Problem):
    """y = A x* measured outside this tool: ``truth`` is None unless a truth file is given
    (then PSNR/SSIM are scored; without it the record holds the data residuals only)."""

    @property
    def signal(self) -> MeasuredSignal:
        assert isinstance(self.spec.signal, MeasuredSignal)
        return self.spec.signal

    @property
    def kind(self) -> str:
        """The fit defaults that apply: an image's, or a 1D signal's."""
        return "smooth" if len(self.signal.shape) == 1 else "image"

    @property
    def signed_output(self) -> bool:
        return self.signal.signed or len(self.signal.shape) == 1

    @property
    def fit_truth(self) -> torch.Tensor | None:
        return None if self.signed_output else self.truth

    @property
    def baseline_options(self) -> dict[str, Any]:
        shape = self.operator.in_shape
        colour = len(shape) == 3 and shape[0] > 1
        return {"tv": {"couple_channels": True}} if colour else {}

    def facts(self) -> dict[str, Any]:
        return {"ground_truth": self.truth is not None}


def build_measured(spec: ProblemSpec) -> MeasuredProblem:
    """The problem a measured-data spec describes (see module docstring).

    Raises:
        ValueError: one line naming the file and the problem.
    """
    signal, data = spec.signal, spec.measurement
    assert isinstance(signal, MeasuredSignal) and isinstance(data, MeasuredData)
    in_shape = signal.signal_shape
    n = int(np.prod(in_shape))
    _same_file(data.measurements, data.measurements_hash, "measurements")
    y = read_array(data.measurements, data.measurements_key, "measurements").reshape(-1)
    if data.matrix is not None:
        _same_file(data.matrix, data.matrix_hash, "matrix")
        operator = _matrix_operator(data, signal, n, y.size)
    else:
        operator = _named_operator(spec, data, in_shape, n, y.size)
    y_t = _measurements(y, operator)
    truth = _truth(signal, in_shape)
    signed = signal.signed or len(signal.shape) == 1
    data_range = float(truth.abs().max()) if signed and truth is not None else 1.0
    scale = rms_estimate(operator, y_t) if signed else 1.0
    return MeasuredProblem(spec, truth, operator, y_t, 0.0, data_range or 1.0, scale)


def matrix_shape(data: MeasuredData) -> tuple[tuple[int, ...], int]:
    """The matrix file's shape and bytes per entry, from its header only."""
    assert data.matrix is not None
    return array_shape(data.matrix, data.matrix_key, "matrix")


def _same_file(path: str, expected: str | None, what: str) -> None:
    """Refuse a file whose content changed since the spec was made."""
    if expected is not None and content_hash(path) != expected:
        raise ValueError(
            f"{what} file {path!r} changed since the problem was specified "
            f"(content hash {expected} expected)"
        )


def _matrix_operator(data: MeasuredData, signal: MeasuredSignal, n: int, m: int) -> Operator:
    assert data.matrix is not None
    shape, itemsize = matrix_shape(data)
    label = f"matrix file {data.matrix!r}"
    if len(shape) != 2:
        raise ValueError(f"{label} holds an array of shape {shape}, not an m x n matrix")
    if shape[1] != n:
        raise ValueError(
            f"{label} is {shape[0]} x {shape[1]}, but --shape {_text(signal.shape)} has "
            f"n = {n} entries"
        )
    if shape[0] != m:
        raise ValueError(f"{label} has m = {shape[0]} rows, but y has {m} entries")
    check_memory(
        {"matrix": m * n * 4, "file's copy": m * n * itemsize},
        "give the operator by name (--operator) or fewer measurements",
    )
    a = read_array(data.matrix, data.matrix_key, "matrix")
    if np.iscomplexobj(a):
        raise ValueError(f"{label} is complex; real matrices only (split real and imaginary parts)")
    matrix = torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    del a
    if len(signal.shape) == 3 and signal.shape[2] > 1:  # channel-last columns → [C, H, W]
        h, w, c = signal.shape
        order = torch.arange(n).reshape(h, w, c).permute(2, 0, 1).reshape(-1)
        matrix = matrix[:, order].contiguous()
    return MatrixOperator(matrix, signal.signal_shape)


def _named_operator(
    spec: ProblemSpec, data: MeasuredData, in_shape: tuple[int, ...], n: int, m: int
) -> Operator:
    assert data.operator is not None
    name, options = parse_operator(data.operator)
    if m > n:
        raise ValueError(f"y has {m} entries, more than the signal's n = {n}")
    seed = data.operator_seed
    seed = derive_seed(spec.seed, "operator") if seed is None else seed
    operator = make_operator(name, in_shape, m / n, seed, options)
    if operator.m != m:
        raise ValueError(f"operator {name!r} at m/n = {m}/{n} has {operator.m} rows, not {m}")
    return operator


def _measurements(y: np.ndarray, operator: Operator) -> torch.Tensor:
    """y as the operator's ``[1, *out_shape]`` (complex operators take complex y)."""
    wants_complex = operator(torch.zeros(1, *operator.in_shape)).is_complex()
    if np.iscomplexobj(y) and not wants_complex:
        raise ValueError("the measurements are complex, but the operator is real")
    dtype = np.complex64 if wants_complex else np.float32
    return torch.from_numpy(np.ascontiguousarray(y, dtype=dtype)).reshape(1, *operator.out_shape)


def _truth(signal: MeasuredSignal, in_shape: tuple[int, ...]) -> torch.Tensor | None:
    """The truth file as the fit's signal ``[1, n]`` or ``[C, H, W]``, or None."""
    if signal.truth is None:
        return None
    _same_file(signal.truth, signal.truth_hash, "truth")
    a = read_array(signal.truth, signal.truth_key, "truth")
    if np.iscomplexobj(a):
        raise ValueError(f"truth file {signal.truth!r} is complex; a real signal is expected")
    shape = signal.shape
    if a.shape == shape or (len(shape) == 2 and a.shape == (*shape, 1)):
        a = a.reshape(shape)
    elif a.size == int(np.prod(shape)) and a.ndim == 1:
        a = a.reshape(shape)
    else:
        raise ValueError(
            f"truth file {signal.truth!r} has shape {a.shape}, but --shape is {_text(shape)}"
        )
    if len(shape) == 3:
        a = np.moveaxis(a, 2, 0)
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)).reshape(in_shape)


def _text(shape: tuple[int, ...]) -> str:
    return ",".join(str(s) for s in shape)


register_builder(MeasuredSignal, build_measured)
