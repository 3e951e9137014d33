"""One registry of measurement operators, by name.

Every property test (adjointness, linearity, VJP = adjoint, norm in expectation) runs over
all entries, so adding an operator is one :func:`register` call here or in its module.
This module imports no MRI code: :mod:`untrained_cs.mri.operators` registers its forward
models itself, and the package ``untrained_cs`` imports it, so every entry is present after
any ``untrained_cs`` import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .base import Operator, Shape
from .gaussian import GaussianOperator
from .mask import MaskOperator
from .structured import StructuredOperator

Seed = int | Sequence[int]
Builder = Callable[[Shape, float, Seed], Operator]


@dataclass(frozen=True)
class OperatorSpec:
    """How to build one kind of operator and what its property tests may expect.

    Attributes:
        name: registry key (also the CLI's ``--operator`` value where applicable).
        build: ``build(in_shape, ratio, seed) -> Operator`` with ratio = m/n.
        test_shape: a small input shape the property tests use.
        norm_factor: E||Ax||^2 / ||x||^2 as a function of the ratio, or None when the
            operator is deterministic (then no expectation test applies).
        description: one line for help texts.
        rtol: relative tolerance of its exact identities (looser for low-precision storage).
    """

    name: str
    build: Builder
    test_shape: Shape
    norm_factor: Callable[[float], float] | None
    description: str
    rtol: float = 1e-6


OPERATORS: dict[str, OperatorSpec] = {}


def register(spec: OperatorSpec) -> OperatorSpec:
    if spec.name in OPERATORS:
        raise ValueError(f"an operator named {spec.name!r} is already registered")
    OPERATORS[spec.name] = spec
    return spec


def rows_for_ratio(in_shape: Shape, ratio: float) -> int:
    """m for a ratio m/n: ``ratio`` times the entries of ``in_shape``, rounded, at least 1."""
    n = 1
    for s in in_shape:
        n *= s
    return max(1, round(ratio * n))


def check_ratio(ratio: float) -> None:
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"ratio m/n must lie in (0, 1], got {ratio}")


def make_operator(name: str, in_shape: Shape, ratio: float, seed: Seed = 0) -> Operator:
    """Build the registered operator ``name`` for signals of ``in_shape`` with m = ratio*n."""
    if name not in OPERATORS:
        raise ValueError(f"unknown operator {name!r}; choose from {sorted(OPERATORS)}")
    check_ratio(ratio)
    return OPERATORS[name].build(tuple(in_shape), ratio, seed)


register(
    OperatorSpec(
        "gaussian",
        lambda s, r, seed: GaussianOperator(s, rows_for_ratio(s, r), seed),
        (1, 6, 5),
        lambda r: 1.0,
        "dense Gaussian matrix, iid N(0, 1/m)",
    )
)
register(
    OperatorSpec(
        "gaussian-bf16",
        lambda s, r, seed: GaussianOperator(s, rows_for_ratio(s, r), seed, dtype=torch.bfloat16),
        (1, 6, 5),
        None,
        "dense Gaussian matrix stored in bfloat16, float32 accumulation",
        rtol=2e-2,
    )
)
register(
    OperatorSpec(
        "structured",
        lambda s, r, seed: StructuredOperator(s, rows_for_ratio(s, r), seed, transform="dct"),
        (1, 7, 6),
        lambda r: 1.0,
        "random signs, orthonormal DCT, random rows (O(n log n))",
    )
)
register(
    OperatorSpec(
        "structured-fft",
        lambda s, r, seed: StructuredOperator(s, rows_for_ratio(s, r), seed, transform="fft"),
        (1, 6, 6),
        lambda r: 1.0,
        "random signs, orthonormal FFT (complex), random rows",
    )
)
register(
    OperatorSpec(
        "mask",
        lambda s, r, seed: MaskOperator(s, r, seed),
        (1, 5, 7),
        lambda r: r,
        "pixel mask keeping a fraction `ratio` of the entries",
    )
)
