"""Comparing two singular-value spectra (Section 4.1: "the spectrum changes only slightly")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def relative_change(a: Sequence[float], b: Sequence[float], top: int) -> float:
    r"""\|a_{1:top} - b_{1:top}\| / \|a_{1:top}\| for two descending spectra.

    Args:
        a, b: the spectra (descending), e.g. of the first and the last snapshot.
        top: how many leading values are compared.

    Returns:
        The relative change of the leading ``top`` values (0: the same).
    """
    x = np.asarray(a[:top], dtype=np.float64)
    z = np.asarray(b[:top], dtype=np.float64)
    return float(np.linalg.norm(x - z) / np.linalg.norm(x))
