r"""Theorems 2/3 (Section 4): the two-layer generator ReLU(UC)v fitted by gradient descent.

For y = A x^* and plain gradient descent from C_0 iid N(0, \omega^2),
\omega = \xi\|y\|/(2\sqrt n\|U\|), with step \eta = m/(4n\|U\|^2),

    \|G(C_\infty) - x^*\|^2 \le C\Big(\sum_i \langle w_i,x^*\rangle^2/\sigma_i^2\Big)
    \sum_{i>2m/3}\sigma_i^2 + \xi^2\|x^*\|^2 \qquad (13)

with \sigma the kernel weights of eq (11) (descending) and w_i the matching trigonometric
functions. :func:`theorem2_curve` measures the left side for p-smooth x^* over m.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ..generators.kernels import circulant_norm, make_kernel
from ..problems.seeds import derive_seed
from .basis import smooth_signal
from .linear_theorem import theorem1_bound
from .weights import sorted_weights


def theorem3_step(m: int, n: int, u_norm: float) -> float:
    r"""Theorem 3's step \eta = m / (4 n \|U\|^2)."""
    return m / (4.0 * n * u_norm**2)


def fit_two_layer(
    x: torch.Tensor,
    m: int,
    channels: int,
    kernel: tuple[str, float],
    xi: float,
    seeds: Sequence[int],
    max_iters: int,
) -> tuple[np.ndarray, list[str]]:
    """Fit ReLU(UC)v to y = A x (one A and one C_0 per seed) by GD.

    Returns:
        the squared errors ``[B]`` and the fits' stop reasons.
    """
    from ..fit import fit
    from ..generators.two_layer import TwoLayerGenerator
    from ..operators.gaussian import GaussianOperator

    n = x.numel()
    gen = TwoLayerGenerator(
        out_shape=(1, n), channels=channels, kernel=kernel, seed=list(seeds), theorem3_xi=xi
    )
    op = GaussianOperator((1, n), m, seed=[derive_seed(s, "operator") for s in seeds])
    truth = x.to(torch.float32).reshape(1, 1, n)
    y = op(truth.expand(len(seeds), 1, n))
    check = min(100, max_iters)
    result = fit(
        gen, op, y, optimizer="gd", lr=theorem3_step(m, n, gen.u_norm), device="cpu",
        max_iters=max_iters, tol=1e-6, loss_floor=1e-10, check_every=check,
        window=check * max(1, 1000 // check),
    )  # fmt: skip
    err = (result.estimate.reshape(len(seeds), n).double() - x.double()).square().sum(-1)
    return err.numpy(), list(result.stop_reason)


def theorem2_curve(
    n: int = 64,
    channels: int = 256,
    width: float = 4.0,
    kernel: str = "triangular",
    p: int = 5,
    ms: Sequence[int] = (4, 8, 12, 16, 24, 32, 48),
    xi: float = 0.1,
    trials: int = 3,
    seed: int = 0,
    max_iters: int = 3000,
) -> dict:
    r"""Measured \|G(C_\infty) - x^*\|^2 against eq (13) over m, for a p-smooth unit x^*.

    Args:
        n, channels: signal length and k.
        width, kernel: the kernel u of U (unit norm).
        p: smoothness of x^* (random coefficients on the p lowest frequencies, ``seed``).
        ms: measurement counts.
        xi: Theorem 3's ξ (init scale); eq (13) adds ξ²‖x*‖².
        trials: independent (A, C_0) draws per m (one batched fit); medians are reported.
        max_iters: gradient-descent iteration cap (Theorem 3's step is small).

    Returns:
        dict of lists over m: ``error``, ``bound13`` (without C), ``ratio``; and settings.
    """
    u = make_kernel(kernel, n, width)
    sigma, w = sorted_weights(u)
    x = smooth_signal(n, p, derive_seed(seed, "signal"))
    rows: dict[str, list] = {k: [] for k in ("m", "error", "bound13", "ratio", "stop_reasons")}
    for m in ms:
        if not 1 <= m <= n:
            raise ValueError(f"each m must satisfy 1 <= m <= n = {n}, got {m}")
        seeds = [derive_seed(seed, "generator", 1000 * m + t) for t in range(trials)]
        err, reasons = fit_two_layer(x, m, channels, (kernel, width), xi, seeds, max_iters)
        bound = theorem1_bound(x, sigma, w, m) + xi**2 * float(x.square().sum())
        rows["m"].append(int(m))
        rows["error"].append(float(np.median(err)))
        rows["bound13"].append(bound)
        rows["ratio"].append(float(np.median(err)) / bound)
        rows["stop_reasons"].append(reasons)
    return {
        "n": n, "channels": channels, "kernel": kernel, "width": width, "p": p, "xi": xi,
        "trials": trials, "max_iters": max_iters, "u_norm": circulant_norm(u), **rows,
    }  # fmt: skip
