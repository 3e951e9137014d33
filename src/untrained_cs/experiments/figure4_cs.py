"""Figure 4's compressive-sensing variant (`untrained-cs theory jacobian`).

This project's 1D deep decoder (last layer ReLU(U B C) v, no affine norms) is fitted by plain
gradient descent to Gaussian measurements of a p-smooth signal; at chosen iterations the
fit engine's check callback reads the parameters (never modifying them) and records the
singular values of θ ↦ G(θ) and how well the leading left singular vectors align with the
trigonometric basis. The paper's own setting (the notebook's network fitted to a noisy
step) is :mod:`untrained_cs.experiments.figure4`, whose tool this is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..fit import fit
from ..generators.base import Generator
from ..generators.deep_decoder import DeepDecoder
from ..operators.base import Operator
from ..problems import CSMeasurement, ProblemSpec, SmoothSignal, build
from ..problems.seeds import member_seeds
from ..theory.basis import trig_basis
from ..theory.jacobian import dense_jacobian, left_singular_vectors, singular_values, top_singular
from ..theory.spectrum import relative_change
from ..theory.weights import fit_gamma, subspace_alignment
from .experiment import Tool, check_fields, setting

#: Upsampling modes of a 1D deep decoder (bilinear is the 2D mode).
UPSAMPLE_1D = ("linear", "nearest", "fixed")
FIGURE4 = "Figure 4's caption"


@dataclass(frozen=True)
class JacobianSettings:
    """Settings of `untrained-cs theory jacobian`.

    Figure 4 shows "a four-layer deep decoder at different iterations of gradient descent"
    and gives no other numbers: the rest are this project's choices.
    """

    n: int = setting(512, "signal length", low=1)
    channels: int = setting(64, "channels k", low=1)
    layers: int = setting(4, "layers d", f"{FIGURE4}: 'four-layer deep decoder'", low=1)
    upsample: str = setting("linear", "upsampling of the decoder", choices=UPSAMPLE_1D)
    iterations: tuple[int, ...] = setting((1, 75, 3500), "GD iterations of the snapshots "
                                          "(0: the initialisation)", low=0)  # fmt: skip
    ratio: float = setting(0.5, "m/n of the Gaussian A", low=0.0, high=1.0, open_low=True)
    p: int = setting(32, "smoothness of x*", low=1)
    top: int = setting(50, "leading singular values compared between the first and last "
                       "snapshot", low=1)  # fmt: skip
    matrix_free: bool = setting(False, "Lanczos top-k, no dense J", "")

    def __post_init__(self) -> None:
        check_fields(self)
        if self.n < 2**self.layers and self.upsample != "fixed":
            raise ValueError(f"n must be >= 2^layers = {2**self.layers}, got {self.n}")
        if self.top >= self.n or self.p > self.n:
            raise ValueError(f"top must be < n and p <= n = {self.n}, got {self.top}, {self.p}")


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
    kept = [int(r) for r in ranks if r <= vectors.shape[1]]
    align = {r: float(subspace_alignment(vectors[:, :r], basis[:, :r]).square().mean())
             for r in kept}  # fmt: skip
    low = {r: float((basis[:, : 4 * r].T @ vectors[:, :r]).square().sum(0).mean()) for r in kept}
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


def data(settings: JacobianSettings, seed: int = 0) -> dict[str, Any]:
    """Fit a deep decoder (last layer ReLU(U B C) v, no affine norms) to y = A x* by GD.

    The problem is ``ProblemSpec(SmoothSignal(n, p), CSMeasurement(ratio=ratio), seed)``
    (x* a p-smooth unit signal, A Gaussian with m = ratio·n) and the decoder's seed is its
    member seed; the Jacobian is that of θ ↦ G(θ) (θ = the channel mixings only:
    layers·k² values for k channels).

    Returns:
        the snapshots of :func:`spectrum_across_iterations` plus ``change_top`` (relative
        change of the top ``top`` singular values between the first and last snapshot).
    """
    s = settings
    gen = DeepDecoder(
        out_shape=(1, s.n), channels=s.channels, layers=s.layers, upsample=s.upsample,
        kernel=("triangular", 4.0) if s.upsample == "fixed" else None, head="fixed",
        affine=False, sigmoid=False, seed=member_seeds(seed, 1),
    )  # fmt: skip
    problem = build(ProblemSpec(SmoothSignal(s.n, s.p), CSMeasurement(ratio=s.ratio), seed))
    res = spectrum_across_iterations(
        gen, problem.operator, problem.y, s.iterations, top=s.top, matrix_free=s.matrix_free
    )
    snaps = res["snapshots"]
    change = relative_change(snaps[0]["sigma"], snaps[-1]["sigma"], s.top) if snaps else None
    return {
        "n": s.n, "channels": s.channels, "layers": s.layers, "upsample": s.upsample,
        "m": problem.m, "p": s.p, "parameters": gen.num_parameters(), "top": s.top,
        "change_top": change, **res,
    }  # fmt: skip


def draw(path: Path, data: dict[str, Any]) -> None:
    """The spectra at the snapshots (:func:`untrained_cs.plots.theory.figure4`)."""
    from ..plots.theory import figure4

    figure4(path, data)


def summary(settings: JacobianSettings, data: dict[str, Any]) -> str:
    """The tool's one line."""
    its = data["iterations"]
    return (
        f"jacobian {data['layers']}x{data['channels']} n={data['n']}: top-{settings.top} "
        f"change {data['change_top']:.3f} between iterations {its[0]} and {its[-1]}"
    )


def memory(settings: JacobianSettings) -> dict[str, int]:
    """The dense Jacobian (unless matrix-free) and the activations (float64)."""
    s = settings
    params = s.layers * s.channels**2
    dense = 0 if s.matrix_free else 3 * 8 * s.n * params
    return {"Jacobian": dense, "activations": 64 * 8 * s.n * s.channels}


TOOL = Tool(
    help="Figure 4: deep decoder Jacobian spectrum over GD",
    settings_type=JacobianSettings, data=data, plot=draw, summary=summary, memory=memory,
)  # fmt: skip
