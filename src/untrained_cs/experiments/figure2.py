"""Figure 2: trigonometric basis functions (eq 10) in the paper's numbering."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..theory.basis import (
    energy_spectrum,
    orthonormality_error,
    paper_functions,
    paper_index_column,
    smooth_signal,
    trig_basis,
)


@dataclass(frozen=True)
class Figure2Defaults:
    """Settings of Figure 2 (`untrained-cs theory basis`)."""

    #: signal length; Figure 2's caption: "in dimension n = 300"
    n: int = 300
    #: eq (10) indices plotted; Figure 2's caption: "the 1st, 2nd, 6th, and 21st"
    functions: tuple[int, ...] = (1, 2, 6, 21)
    #: smoothness of the example signal (Section 1's p-smooth x*); this project's choice
    p: int = 10


DEFAULTS = Figure2Defaults()


def figure2_data(
    n: int = DEFAULTS.n,
    indices: Sequence[int] = DEFAULTS.functions,
    p: int = DEFAULTS.p,
    seed: int = 0,
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
