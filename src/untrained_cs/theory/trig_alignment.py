r"""How close a matrix's left singular vectors are to the trigonometric basis (eq 10).

The measures behind "the leading left singular vectors are close to trigonometric
functions": for each r, the mean cos² of the principal angles between the span of the r
leading left singular vectors and the span of the r lowest-frequency trig functions (1 =
the same subspace; about r/n for a random subspace), and the share of each leading
vector's energy inside the lowest-frequency trig functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .basis import trig_basis
from .weights import subspace_alignment


def left_singular(matrix: torch.Tensor, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All singular values (descending) and the ``count`` leading left singular vectors.

    Both from the eigendecomposition of M M^T in float64 (rows x rows: far cheaper than an
    SVD of a wide matrix). Each vector's sign is fixed so that its largest entry is
    positive, which makes snapshots comparable in plots.
    """
    m = matrix.to(torch.float64)
    evals, evecs = torch.linalg.eigh(m @ m.T)
    sigma = evals.flip(0).clamp_min(0.0).sqrt()
    vectors = evecs.flip(1)[:, : max(0, count)]
    peak = vectors.gather(0, vectors.abs().argmax(0, keepdim=True))
    return sigma, vectors * torch.where(peak < 0, -1.0, 1.0)


def trig_alignment(vectors: torch.Tensor, ranks: Sequence[int]) -> dict[int, float]:
    """For each r ≤ the number of vectors: mean cos² of the principal angles between
    span(vectors[:, :r]) and the r lowest-frequency trig functions (orthonormal input)."""
    n, have = vectors.shape
    out = {}
    for r in ranks:
        if 1 <= r <= have:
            cos = subspace_alignment(vectors[:, :r], trig_basis(n, columns=r))
            out[int(r)] = float(cos.square().mean())
    return out


def low_frequency_share(vectors: torch.Tensor, columns: int) -> list[float]:
    """Per vector: the share of its energy in the ``columns`` lowest-frequency trig functions."""
    n = vectors.shape[0]
    basis = trig_basis(n, columns=min(columns, n))
    v = vectors.to(torch.float64)
    inside = (basis.T @ v).square().sum(0)
    return (inside / v.square().sum(0)).tolist()


def decay_index(sigma: Sequence[float] | torch.Tensor, fraction: float = 0.01) -> int:
    """The 1-based index of the first singular value below ``fraction`` · σ_1.

    ``len(sigma) + 1`` when none is: the spectrum never falls that far.
    """
    s = np.asarray(sigma, dtype=np.float64)
    below = np.flatnonzero(s < fraction * s[0])
    return int(below[0]) + 1 if below.size else int(s.size) + 1


def constant_leak(matrix: torch.Tensor, sigma_1: float) -> float:
    r"""‖M^T 1‖ / (‖1‖ σ_1): how much of the constant vector the matrix can produce.

    0 when the constant is orthogonal to the range of M (then no left singular vector
    with a nonzero singular value can be the constant trig function w_0); at most 1.
    """
    m = matrix.to(torch.float64)
    ones = torch.ones(m.shape[0], dtype=torch.float64)
    if sigma_1 <= 0.0:
        return 0.0
    return float((m.T @ ones).norm() / (ones.norm() * sigma_1))


def spectrum_report(
    matrix: torch.Tensor,
    top: int,
    ranks: Sequence[int],
    low_columns: int,
    keep: int,
    fraction: float = 0.01,
) -> dict[str, Any]:
    """Everything Figure 4 reads off one ``[n, P]`` matrix, as JSON-safe lists.

    Args:
        matrix: the Jacobian (or the notebook's running-sum matrix), n rows.
        top: leading singular values reported as ``sigma`` (all n are ``spectrum``).
        ranks: r values of :func:`trig_alignment` (those above n are left out).
        low_columns: the lowest-frequency trig functions of :func:`low_frequency_share`,
            computed for the max(ranks) leading vectors.
        keep: leading left singular vectors returned for plotting.
        fraction: the level of :func:`decay_index`.
    """
    n = matrix.shape[0]
    ranks = [int(r) for r in ranks if 1 <= r <= n]
    most = max(ranks, default=1)
    sigma, vectors = left_singular(matrix, max(keep, most))
    align = trig_alignment(vectors, ranks)
    return {
        "sigma": sigma[:top].tolist(),
        "spectrum": sigma.tolist(),
        "ranks": ranks,
        "alignment": [align[r] for r in ranks],
        "low_frequency_share": low_frequency_share(vectors[:, :most], low_columns),
        "decay_index": decay_index(sigma, fraction),
        "constant_leak": constant_leak(matrix, float(sigma[0])),
        "vectors": vectors[:, :keep].T.tolist(),
    }
