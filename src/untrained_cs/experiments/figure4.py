"""Figure 4: the Jacobian spectrum of a 1D four-layer deep decoder across GD iterations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..generators.deep_decoder import DeepDecoder
from ..operators.gaussian import GaussianOperator
from ..theory.basis import smooth_signal
from ..theory.spectrum import relative_change, spectrum_across_iterations

#: Upsampling modes of a 1D deep decoder (bilinear is the 2D mode).
UPSAMPLE_1D = ("linear", "nearest", "fixed")


@dataclass(frozen=True)
class Figure4Defaults:
    """Settings of Figure 4 (`untrained-cs theory jacobian`).

    Figure 4 shows "a four-layer deep decoder at different iterations of gradient descent"
    and gives no other numbers: the rest are this project's choices.
    """

    n: int = 512
    channels: int = 64
    #: Figure 4's caption: "four-layer deep decoder"
    layers: int = 4
    upsample: str = "linear"
    iterations: tuple[int, ...] = (1, 75, 3500)
    #: m/n of the Gaussian A
    ratio: float = 0.5
    #: smoothness of x*
    p: int = 32
    #: leading singular values compared between the first and last snapshot
    top: int = 50


DEFAULTS = Figure4Defaults()


def figure4_data(
    n: int = DEFAULTS.n,
    channels: int = DEFAULTS.channels,
    layers: int = DEFAULTS.layers,
    upsample: str = DEFAULTS.upsample,
    iterations: Sequence[int] = DEFAULTS.iterations,
    ratio: float = DEFAULTS.ratio,
    p: int = DEFAULTS.p,
    top: int = DEFAULTS.top,
    seed: int = 0,
    matrix_free: bool = False,
) -> dict[str, Any]:
    """Fit a deep decoder (last layer ReLU(U B C) v, no affine norms) to y = A x* by GD.

    x* is a p-smooth unit signal, A Gaussian with m = ratio·n; the Jacobian is that of
    θ ↦ G(θ) (θ = the channel mixings only: layers·k² values for k channels).

    Returns:
        the snapshots of :func:`spectrum_across_iterations` plus ``change_top`` (relative
        change of the top ``top`` singular values between the first and last snapshot).
    """
    gen = DeepDecoder(
        out_shape=(1, n), channels=channels, layers=layers, upsample=upsample,
        kernel=("triangular", 4.0) if upsample == "fixed" else None, head="fixed",
        affine=False, sigmoid=False, seed=seed,
    )  # fmt: skip
    op = GaussianOperator((1, n), max(1, round(ratio * n)), seed=seed + 1)
    x = smooth_signal(n, p, seed).float().reshape(1, 1, n)
    res = spectrum_across_iterations(gen, op, op(x), iterations, top=top, matrix_free=matrix_free)
    snaps = res["snapshots"]
    change = relative_change(snaps[0]["sigma"], snaps[-1]["sigma"], top) if snaps else None
    return {
        "n": n, "channels": channels, "layers": layers, "upsample": upsample, "m": op.m,
        "p": p, "parameters": gen.num_parameters(), "top": top, "change_top": change, **res,
    }  # fmt: skip
