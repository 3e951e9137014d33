"""Measurement operators A (Gaussian, structured random, pixel mask, and the MRI models).

All share the :class:`Operator` interface and live in one registry (:data:`OPERATORS`).
Solvers on them (min-norm, operator norm, FISTA, TV) are in :mod:`untrained_cs.solvers`.
"""

from .base import Operator
from .checks import dot_test, linearity_test, norm_ratio, vjp_test
from .gaussian import GaussianOperator
from .mask import MaskOperator
from .matrix import MatrixOperator
from .registry import OPERATORS, OperatorSpec, check_ratio, make_operator, register
from .slices import SliceStructuredOperator
from .structured import StructuredOperator

__all__ = [
    "OPERATORS",
    "GaussianOperator",
    "MaskOperator",
    "MatrixOperator",
    "Operator",
    "OperatorSpec",
    "SliceStructuredOperator",
    "StructuredOperator",
    "check_ratio",
    "dot_test",
    "linearity_test",
    "make_operator",
    "norm_ratio",
    "register",
    "vjp_test",
]
