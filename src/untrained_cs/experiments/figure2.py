"""Figure 2: trigonometric basis functions (eq 10) of the paper's numbering, n = 300."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..theory.basis import (
    energy_spectrum,
    orthonormality_error,
    paper_functions,
    paper_index_column,
    smooth_signal,
    trig_basis,
)


def figure2_data(
    n: int = 300, indices: Sequence[int] = (1, 2, 6, 21), p: int = 10, seed: int = 0
) -> dict[str, Any]:
    """The eq (10) functions ``indices`` (paper numbering i = 0..n−1) and a p-smooth example.

    Returns:
        ``functions`` ([len(indices)] lists of n values), ``columns`` (their position in
        the frequency-ordered basis and sign), ``orthonormality_error`` (max |WᵀW − I|),
        ``smooth`` (a seeded unit-norm p-smooth signal) and its ``energy`` per basis column.
    """
    funcs = paper_functions(n, list(indices))
    x = smooth_signal(n, p, seed)
    return {
        "n": n,
        "indices": [int(i) for i in indices],
        "columns": [list(paper_index_column(int(i), n)) for i in indices],
        "functions": funcs.T.tolist(),
        "orthonormality_error": orthonormality_error(trig_basis(n)),
        "p": p,
        "seed": seed,
        "smooth": x.tolist(),
        "energy": energy_spectrum(x).tolist(),
    }
