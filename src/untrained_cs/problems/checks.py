"""The checks every spec field goes through: one ``ValueError`` naming the field."""

from __future__ import annotations

import math
from typing import Any


def check_int(name: str, value: Any, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")


def check_real(name: str, value: Any, low: float, high: float = math.inf, open_low=False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < low or value > high or (open_low and value == low):
        lo = "(" if open_low else "["
        hi = "]" if math.isfinite(high) else ")"
        raise ValueError(f"{name} must lie in {lo}{low:g}, {high:g}{hi}, got {value}")
