r"""The trigonometric basis of eq (10) and p-smooth signals.

w_0 = 1/\sqrt{n}; cosines \sqrt{2/n}\cos(2\pi j i/n) and sines \sqrt{2/n}\sin(2\pi j i/n) for
frequencies i = 1, …, ⌈n/2⌉ − 1; for even n the alternating (−1)^j/\sqrt{n} at i = n/2.
Columns are returned in frequency order (w_0, cos 1, sin 1, cos 2, sin 2, …), so the first p
columns span the p-smooth signals.
"""

from __future__ import annotations

import math

import torch

from ..seeding import rng


def trig_basis(
    n: int, dtype: torch.dtype = torch.float64, columns: int | None = None
) -> torch.Tensor:
    """Orthonormal ``[n, n]`` matrix whose columns are eq (10)'s functions, low frequency first.

    Column c has frequency (c + 1) // 2: the constant, then cos and sin of each frequency,
    and (−1)^j last for even n. ``columns`` builds only the first that many (``[n, columns]``).
    """
    if n < 1:
        raise ValueError(f"trig_basis needs n >= 1, got {n}")
    count = n if columns is None else columns
    if not 1 <= count <= n:
        raise ValueError(f"trig_basis columns must be in [1, {n}], got {columns}")
    j = torch.arange(n, dtype=torch.float64)[:, None]
    col = torch.arange(count)
    freq = frequencies(n)[:count].to(torch.float64)
    angle = 2 * math.pi * j * freq / n
    is_cos = (col % 2 == 1) | (col == 0)
    unpaired = (col == 0) | (2 * freq == n)  # the constant and (−1)^j have norm √n
    scale = torch.full((count,), math.sqrt(2.0 / n), dtype=torch.float64)
    scale[unpaired] = 1.0 / math.sqrt(n)
    basis = torch.where(is_cos, torch.cos(angle), torch.sin(angle)) * scale
    if n % 2 == 0 and n > 1 and count == n:  # (−1)^j exactly, not cos(π j) rounded
        basis[:, -1] = (-1.0) ** j[:, 0] / math.sqrt(n)
    return basis.to(dtype)


def frequencies(n: int) -> torch.Tensor:
    """Frequency of each column of :func:`trig_basis` (0, 1, 1, 2, 2, …)."""
    return (torch.arange(n) + 1) // 2


def smooth_signal(n: int, p: int, seed: int = 0, dtype: torch.dtype = torch.float64):
    """A p-smooth signal: iid N(0, 1) coefficients on the first p basis functions, unit norm."""
    if not 1 <= p <= n:
        raise ValueError(f"smooth_signal needs 1 <= p <= n, got p = {p}, n = {n}")
    coeffs = torch.randn(p, generator=rng(seed), dtype=torch.float64)
    x = trig_basis(n, columns=p) @ coeffs
    return (x / x.norm()).to(dtype)


def project(x: torch.Tensor, p: int) -> torch.Tensor:
    """Orthogonal projection of the last dim of ``x`` onto the first p basis functions."""
    w = trig_basis(x.shape[-1], dtype=x.dtype, columns=p)
    return (x @ w) @ w.T


def energy_spectrum(x: torch.Tensor) -> torch.Tensor:
    """Squared coefficients ⟨w_i, x⟩² of the last dim of ``x`` in frequency order."""
    return (x @ trig_basis(x.shape[-1], dtype=x.dtype)) ** 2


def paper_index_column(i: int, n: int) -> tuple[int, float]:
    r"""Where eq (10)'s function number i sits among :func:`trig_basis`'s columns.

    Eq (10) numbers the functions i = 0, …, n − 1: the constant (i = 0), cosines of
    frequency i (1 ≤ i < n/2), the alternating (−1)^j (i = n/2, even n), then sines
    \sin(2\pi j i/n) = −\sin(2\pi j (n − i)/n) for i > n/2.

    Args:
        i: the index in eq (10), ``0 <= i < n``.
        n: the signal length.

    Returns:
        ``(column, sign)`` with ``paper_function(i) = sign * trig_basis(n)[:, column]``.
    """
    if not 0 <= i < n:
        raise ValueError(f"eq (10) index must satisfy 0 <= i < n = {n}, got {i}")
    if i == 0:
        return 0, 1.0
    if 2 * i < n:
        return 2 * i - 1, 1.0
    if 2 * i == n:
        return n - 1, 1.0
    return 2 * (n - i), -1.0


def paper_functions(n: int, indices: list[int], dtype: torch.dtype = torch.float64):
    """The eq (10) functions with the paper's indices as the columns of an ``[n, len]`` matrix."""
    basis = trig_basis(n, dtype)
    cols = []
    for i in indices:
        col, sign = paper_index_column(int(i), n)
        cols.append(sign * basis[:, col])
    return torch.stack(cols, dim=1)


def orthonormality_error(basis: torch.Tensor) -> float:
    r"""max |W^T W − I| of a matrix with (supposedly) orthonormal columns."""
    gram = basis.T @ basis
    eye = torch.eye(gram.shape[0], dtype=gram.dtype)
    return float((gram - eye).abs().max())
