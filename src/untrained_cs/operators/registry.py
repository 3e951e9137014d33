"""One registry of measurement operators, by name.

Every property test (adjointness, linearity, VJP = adjoint, norm in expectation) runs over
all entries, so adding an operator is one :func:`register` call here or in its module.
This module imports no MRI code: :mod:`untrained_cs.mri.operators` registers its forward
models itself, and the package ``untrained_cs`` imports it, so every entry is present after
any ``untrained_cs`` import.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .base import Operator, Shape
from .blur import BOUNDARIES, BlurOperator
from .gaussian import GaussianOperator
from .identity import IdentityOperator
from .mask import MaskOperator
from .resample import KERNELS, DownsampleOperator
from .slices import SliceStructuredOperator
from .structured import StructuredOperator

Seed = int | Sequence[int]
#: ``build(in_shape, ratio, seed, **options) -> Operator``
Builder = Callable[..., Operator]


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
        options: the operator's own settings and their defaults (passed to ``build`` as
            keywords; JSON values), e.g. a downsampling factor.
        choices: for options with a fixed set of values, that set.
        uses_ratio: False when m follows from the options, not from a ratio m/n.
        test_options: the option sets the property tests build (each a variant).
    """

    name: str
    build: Builder
    test_shape: Shape
    norm_factor: Callable[[float], float] | None
    description: str
    rtol: float = 1e-6
    options: Mapping[str, Any] = field(default_factory=dict)
    choices: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    uses_ratio: bool = True
    test_options: tuple[Mapping[str, Any], ...] = ({},)

    def resolve(self, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Its options with ``options`` applied, checked (names, types, choices)."""
        given = dict(options or {})
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            known = ", ".join(self.options) or "none"
            raise ValueError(
                f"operator {self.name!r} has no option {', '.join(unknown)} (options: {known})"
            )
        out = dict(self.options)
        for key, value in given.items():
            out[key] = _coerce(self.name, key, value, self.options[key])
            if key in self.choices and out[key] not in self.choices[key]:
                allowed = ", ".join(str(c) for c in self.choices[key])
                raise ValueError(
                    f"operator {self.name!r}: {key} must be one of {allowed}, got {value!r}"
                )
        return out


def _coerce(name: str, key: str, value: Any, default: Any) -> Any:
    """``value`` as the type of the option's default (numbers from text are accepted)."""
    kind = type(default)
    try:
        if kind is int:
            number = float(value)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            return float(value)
    except (TypeError, ValueError):
        what = "an integer" if kind is int else "a number"
        raise ValueError(f"operator {name!r}: {key} must be {what}, got {value!r}") from None
    return value if default is None or value is None else kind(value)


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


def make_operator(
    name: str,
    in_shape: Shape,
    ratio: float = 1.0,
    seed: Seed = 0,
    options: Mapping[str, Any] | None = None,
) -> Operator:
    """Build the registered operator ``name`` for signals of ``in_shape`` with m = ratio*n
    (operators whose m follows from their options ignore ``ratio``) and its ``options``."""
    if name not in OPERATORS:
        raise ValueError(f"unknown operator {name!r}; choose from {sorted(OPERATORS)}")
    spec = OPERATORS[name]
    if spec.uses_ratio:
        check_ratio(ratio)
    return spec.build(tuple(in_shape), ratio, seed, **spec.resolve(options))


def operator_text(name: str, options: Mapping[str, Any] | None = None) -> str:
    """The canonical text of an operator: its name, then the options that differ from its
    defaults in the registry's order (``"downsample:factor=4"``; ``"gaussian"``)."""
    spec = OPERATORS[name]
    resolved = spec.resolve(options)
    changed = [f"{k}={resolved[k]}" for k in spec.options if resolved[k] != spec.options[k]]
    return name + (":" + ",".join(changed) if changed else "")


def parse_operator(text: str) -> tuple[str, dict[str, Any]]:
    """``"NAME"`` or ``"NAME:key=value,key=value"`` → the name and its options (checked)."""
    name, _, rest = text.partition(":")
    name = name.strip()
    if name not in OPERATORS:
        raise ValueError(f"unknown operator {name!r}; choose from {', '.join(sorted(OPERATORS))}")
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"operator option {item!r} is not of the form key=value")
        options[key.strip()] = value.strip()
    return name, OPERATORS[name].resolve(options)


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
        "structured-slices",
        lambda s, r, seed: SliceStructuredOperator(s, r, seed),
        (1, 3, 5, 6),
        lambda r: 1.0,
        "a volume's slices measured each by its own structured operator (m = D·m_slice)",
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
register(
    OperatorSpec(
        "identity",
        lambda s, r, seed: IdentityOperator(s),
        (2, 5, 7),
        None,
        "identity: the whole signal observed (denoising)",
        uses_ratio=False,
    )
)
register(
    OperatorSpec(
        "downsample",
        lambda s, r, seed, factor, kernel: DownsampleOperator(s, factor, kernel),
        (2, 8, 12),
        None,
        "each spatial axis reduced by `factor` (box or bicubic anti-aliasing; super-resolution)",
        options={"factor": 2, "kernel": "box"},
        choices={"kernel": KERNELS},
        uses_ratio=False,
        test_options=({}, {"kernel": "bicubic"}, {"factor": 4, "kernel": "bicubic"}),
    )
)
register(
    OperatorSpec(
        "blur",
        lambda s, r, seed, sigma, boundary: BlurOperator(s, sigma=sigma, boundary=boundary),
        (2, 12, 13),
        None,
        "Gaussian blur of std `sigma` pixels, circular or valid boundary (deblurring)",
        options={"sigma": 1.5, "boundary": "circular"},
        choices={"boundary": BOUNDARIES},
        uses_ratio=False,
        test_options=({}, {"boundary": "valid", "sigma": 1.0}),
    )
)
