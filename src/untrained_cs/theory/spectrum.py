"""The Jacobian spectrum across the iterations of a fit (Section 4.1, Figure 4).

The fit engine runs as usual; its check callback (every iteration here) reads the current
parameters — never modifying them — and, at the chosen iterations, records the singular
values of θ ↦ G(θ) and how well the leading left singular vectors align with the
trigonometric basis (1D signals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..generators.base import Generator
from ..operators.base import Operator
from .basis import trig_basis
from .jacobian import dense_jacobian, left_singular_vectors, singular_values, top_singular
from .weights import fit_gamma, subspace_alignment


def jacobian_snapshot(
    gen: Generator, top: int, ranks: Sequence[int], matrix_free: bool = False
) -> dict[str, Any]:
    """Singular values (all, or the top ones) of J_G at the current θ, and basis alignment.

    Args:
        gen: a one-member generator with a 1D output ``(1, n)``.
        top: leading values used for the matrix-free solve (and the left vectors' count).
        ranks: r values for the alignment (mean cos² of the principal angles between the
            top-r left singular vectors and the r lowest-frequency trig functions).
        matrix_free: Lanczos on J J^T instead of the dense Jacobian.

    Returns:
        ``{"sigma", "gamma", "alignment", "low_frequency_energy"}``: γ the fitted geometric
        rate of σ_i² (:func:`~untrained_cs.theory.weights.fit_gamma`); for each r, the
        alignment above and the mean energy of the top-r left singular vectors inside
        the 4r lowest-frequency trig functions (1 = entirely low-frequency).
    """
    n = gen.n
    need = max([top, *ranks])
    if matrix_free:
        sigma, left = top_singular(gen, min(need, n - 1))
        sv, vectors = torch.from_numpy(sigma), torch.from_numpy(left)
    else:
        jac = dense_jacobian(gen)[0]
        sv = singular_values(jac)
        vectors = left_singular_vectors(jac, need)
    basis = trig_basis(n)
    align = {
        int(r): float(subspace_alignment(vectors[:, :r], basis[:, :r]).square().mean())
        for r in ranks
        if r <= vectors.shape[1]
    }
    low = {
        int(r): float((basis[:, : 4 * r].T @ vectors[:, :r]).square().sum(0).mean())
        for r in ranks
        if r <= vectors.shape[1]
    }
    return {
        "sigma": sv.tolist(),
        "gamma": fit_gamma(sv)["gamma"],
        "alignment": align,
        "low_frequency_energy": low,
    }


def spectrum_across_iterations(
    gen: Generator,
    operator: Operator,
    y: torch.Tensor,
    iterations: Sequence[int],
    top: int = 50,
    ranks: Sequence[int] = (1, 5, 11, 21),
    lr: float | None = None,
    matrix_free: bool = False,
) -> dict[str, Any]:
    """Fit by plain gradient descent and snapshot the Jacobian spectrum at ``iterations``.

    Args:
        gen, operator, y: the problem (one member; 1D signal).
        iterations: iteration counts to snapshot (0 = the initialisation).
        top, ranks, matrix_free: see :func:`jacobian_snapshot`.
        lr: GD step (default: the engine's 1/L at the initialisation).

    Returns:
        ``{"iterations": [...], "snapshots": [...], "loss": [...], "lr": float}``, one
        snapshot and the loss at each requested iteration.
    """
    from ..fit import fit

    if gen.batch != 1 or len(gen.out_shape) != 2:
        raise ValueError(
            f"spectrum_across_iterations needs one member with a 1D output, got batch "
            f"{gen.batch} and out_shape {gen.out_shape}"
        )
    wanted = sorted({int(i) for i in iterations})
    if not wanted or wanted[0] < 0:
        raise ValueError(f"iterations must be non-negative counts, got {list(iterations)}")
    snaps: dict[int, dict[str, Any]] = {}
    losses: dict[int, float] = {}

    def record(rec: dict[str, Any]) -> None:
        it = int(rec["iteration"])
        if it in wanted and it not in snaps:
            snaps[it] = jacobian_snapshot(rec["generator"], top, ranks, matrix_free)
            losses[it] = float(np.asarray(rec["loss"]).reshape(-1)[0])

    last = max(wanted[-1], 1)
    result = fit(
        gen, operator, y, optimizer="gd", lr=lr, device="cpu", max_iters=last, tol=1e-12,
        loss_floor=1e-30, check_every=1, window=last, callback=record,
    )  # fmt: skip
    done = [i for i in wanted if i in snaps]
    return {
        "iterations": done,
        "snapshots": [snaps[i] for i in done],
        "loss": [losses[i] for i in done],
        "lr": float(result.config["lr"][0]),
        "stop_reason": result.stop_reason[0],
    }


def relative_change(a: Sequence[float], b: Sequence[float], top: int) -> float:
    r"""\|a_{1:top} - b_{1:top}\| / \|a_{1:top}\| for two descending spectra."""
    x = np.asarray(a[:top], dtype=np.float64)
    z = np.asarray(b[:top], dtype=np.float64)
    return float(np.linalg.norm(x - z) / np.linalg.norm(x))
