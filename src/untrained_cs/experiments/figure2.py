"""Figure 2: trigonometric basis functions (eq 10) in the order the paper's figure shows.

The figure plots "the 1st, 2nd, 6th, and 21st" functions: counted in the order in which the
singular vectors of a circulant matrix come out — the constant, then cosine/sine pairs of
rising frequency (:func:`~untrained_cs.theory.basis.trig_basis`'s columns) — that is the
constant and the frequencies 1, 3 and 10, not eq (10)'s functions i = 1, 2, 6, 21.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..theory.basis import (
    energy_spectrum,
    frequencies,
    orthonormality_error,
    paper_index_column,
    smooth_signal,
    trig_basis,
)
from .claims import Claim, check


@dataclass(frozen=True)
class Figure2Defaults:
    """Settings of Figure 2 (`untrained-cs theory basis`)."""

    #: signal length; Figure 2's caption: "in dimension n = 300"
    n: int = 300
    #: positions plotted (1-based, singular-vector order); Figure 2's caption: "the 1st, 2nd,
    #: 6th, and 21st" (the constant and the frequencies 1, 3, 10)
    functions: tuple[int, ...] = (1, 2, 6, 21)
    #: smoothness of the example signal (Section 1's p-smooth x*); this project's choice
    p: int = 10


DEFAULTS = Figure2Defaults()


def figure2_data(
    n: int = DEFAULTS.n,
    positions: Sequence[int] = DEFAULTS.functions,
    p: int = DEFAULTS.p,
    seed: int = 0,
) -> dict[str, Any]:
    """The basis functions at 1-based ``positions`` (see module docstring), a p-smooth example.

    Returns:
        ``functions`` ([len(positions)] lists of n values), ``positions``, ``frequencies``
        (of each), ``eq10_indices`` (the same function's number i in eq (10)),
        ``orthonormality_error`` (max |WᵀW − I|), ``smooth`` (a seeded unit-norm p-smooth
        signal) and its ``energy`` per basis column.
    """
    bad = [q for q in positions if not 1 <= q <= n]
    if bad:
        raise ValueError(f"positions must lie in [1, {n}], got {bad}")
    basis = trig_basis(n)
    cols = [int(q) - 1 for q in positions]
    x = smooth_signal(n, p, seed)
    return {
        "n": n,
        "positions": [int(q) for q in positions],
        "frequencies": [int(frequencies(n)[c]) for c in cols],
        "eq10_indices": [_eq10_index(c, n) for c in cols],
        "functions": basis[:, cols].T.tolist(),
        "orthonormality_error": orthonormality_error(trig_basis(n)),
        "p": p,
        "seed": seed,
        "smooth": x.tolist(),
        "energy": energy_spectrum(x).tolist(),
    }


def _eq10_index(column: int, n: int) -> int:
    """The eq (10) number i of the function in ``trig_basis(n)``'s ``column`` (up to sign)."""
    return next(i for i in range(n) if paper_index_column(i, n)[0] == column)


# --- `untrained-cs reproduce fig2` (see :mod:`.claims`) ---------------------------------

TITLE = "Figure 2: trigonometric basis functions"
#: the paper's own setting costs milliseconds, so every scale runs it
SETTINGS = {"smoke": DEFAULTS, "cpu": DEFAULTS, "paper": DEFAULTS}
#: frequencies of positions 1, 2, 6, 21 in singular-vector order (constant, then pairs)
PAPER_FREQUENCIES = [0, 1, 3, 10]


def data(settings: Figure2Defaults, seed: int = 0) -> dict[str, Any]:
    return figure2_data(settings.n, settings.functions, settings.p, seed)


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    from ..plots.theory import figure2

    figure2(folder / "fig2.png", data)
    return ["fig2.png"]


def claims(data: dict[str, Any]) -> list[Claim]:
    err = data["orthonormality_error"]
    freqs = data["frequencies"]
    paper_order = data["positions"] == [1, 2, 6, 21]
    shown = "/".join(str(f) for f in freqs)
    eq10 = "/".join(str(i) for i in data["eq10_indices"])
    return [
        check(
            "the trigonometric functions w_1, ..., w_n of eq (10) are an orthonormal basis",
            err,
            err < 1e-10,
            f"max |WᵀW − I| = {err:.1e} at n = {data['n']}",
        ),  # fmt: skip
        check(
            "Figure 2 shows the 1st, 2nd, 6th and 21st trigonometric basis functions",
            shown,
            paper_order and freqs == PAPER_FREQUENCIES,
            f"counted in singular-vector order (the constant, then cos/sin pairs) they have "
            f"frequencies {shown}; in eq (10)'s numbering they are i = {eq10}",
        ),
    ]
