r"""The kernel weights of eq (11) and their cross-checks.

For a two-layer generator G(C) = ReLU(UC)v with circulant U (kernel u) and C iid Gaussian,
the expected Jacobian Gram matrix is circulant,

    \Sigma(U) = E[J_G(C) J_G(C)^T],\quad \Sigma_{jl} = \|u\|^2 g(\rho_{jl}),\quad
    \rho = U U^T / \|u\|^2,\quad g(z) = \tfrac12 (1 - \arccos(z)/\pi)\, z,

so its eigenvectors are the trigonometric functions of eq (10) and its eigenvalues are
\sigma^2 with \sigma = \|u\| \sqrt{|F g(a / \|u\|^2)|} (eq 11), a the circular autocorrelation of
u (= u ⊛ u for the symmetric kernels of the paper). Everything here is float64 and 1D.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .basis import frequencies, trig_basis


def _check_kernel(u: torch.Tensor) -> torch.Tensor:
    if u.dim() != 1 or u.numel() < 2:
        raise ValueError(f"kernel must be a 1D tensor of length n >= 2, got {tuple(u.shape)}")
    if not bool(torch.isfinite(u).all()) or float(u.norm()) == 0.0:
        raise ValueError("kernel must be finite and not all zero")
    return u.to(torch.float64)


def relu_kernel_g(z: torch.Tensor) -> torch.Tensor:
    r"""g(z) = \tfrac12 (1 - \arccos(z)/\pi) z, the arc-cosine kernel of one ReLU layer."""
    z = z.clamp(-1.0, 1.0)
    return 0.5 * (1.0 - torch.arccos(z) / math.pi) * z


def autocorrelation(u: torch.Tensor) -> torch.Tensor:
    r"""Circular autocorrelation a_l = \sum_i u_i u_{i+l} (the first row of U U^T)."""
    u = _check_kernel(u)
    spectrum = torch.fft.fft(u)
    return torch.fft.ifft(spectrum * spectrum.conj()).real


def sigma_first_row(u: torch.Tensor) -> torch.Tensor:
    r"""First row of the circulant \Sigma(U): \|u\|^2 g(a / \|u\|^2), length n."""
    u = _check_kernel(u)
    sq = float(u @ u)
    return sq * relu_kernel_g(autocorrelation(u) / sq)


def kernel_weights(u: torch.Tensor) -> torch.Tensor:
    r"""Eq (11): \sigma for each column of :func:`trig_basis` (frequency order), ``[n]``.

    Args:
        u: the kernel, length n (any norm; used as given).

    Returns:
        \sigma_i = \sqrt{|\lambda_{f_i}|}, \lambda_f the DFT of :func:`sigma_first_row` at
        the frequency f_i of basis column i (cosine and sine of one frequency share it).
    """
    eig = torch.fft.fft(sigma_first_row(u)).real.abs()
    return eig[frequencies(u.numel())].sqrt()


def sorted_weights(u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq (11) weights in descending order, with the matching basis columns ``[n, n]``."""
    sigma = kernel_weights(u)
    order = torch.argsort(sigma, descending=True, stable=True)
    return sigma[order], trig_basis(u.numel())[:, order]


def explicit_sigma(u: torch.Tensor) -> torch.Tensor:
    r"""\Sigma(U) built densely: U as an explicit circulant, then \|u\|^2 g(U U^T/\|u\|^2)."""
    u = _check_kernel(u)
    n = u.numel()
    idx = (torch.arange(n)[:, None] - torch.arange(n)[None, :]) % n
    U = u[idx]  # (Uc)_j = \sum_i u_{j-i} c_i, the circular convolution
    sq = float(u @ u)
    return sq * relu_kernel_g(U @ U.T / sq)


def explicit_eigenvalues(u: torch.Tensor) -> torch.Tensor:
    r"""Eigenvalues of the explicit \Sigma(U), descending (compare with σ² of eq 11)."""
    return torch.linalg.eigvalsh(explicit_sigma(u)).flip(0)


def fit_gamma(sigma: torch.Tensor, upper: float = 0.5, lower: float = 0.05) -> dict:
    r"""Geometric decay rate γ with \sigma_i^2 ≈ c γ^i over the decaying part.

    The decaying part is the run of the descending σ² between ``upper`` and ``lower`` times
    the largest (the knee where the weights fall; the flat top and the slow tail are left
    out). γ = exp(slope) of a least-squares line through log σ_i² there.

    Args:
        sigma: weights (any order; sorted here).
        upper, lower: the fractions of max σ² that bound the fitted range.

    Returns:
        ``{"gamma", "start", "stop"}`` (the fitted index range, 0-based, stop exclusive).
    """
    if not 0 < lower < upper <= 1:
        raise ValueError(f"fit_gamma needs 0 < lower < upper <= 1, got {lower}, {upper}")
    s2 = np.sort(np.asarray(sigma, dtype=np.float64) ** 2)[::-1]
    rel = s2 / s2[0]
    inside = np.flatnonzero((rel <= upper) & (rel >= lower))
    if inside.size < 2:
        inside = np.arange(min(2, s2.size))
    start, stop = int(inside[0]), int(inside[-1]) + 1
    idx = np.arange(start, stop)
    slope = np.polyfit(idx, np.log(np.maximum(s2[start:stop], 1e-300)), 1)[0]
    return {"gamma": float(np.exp(slope)), "start": start, "stop": stop}


def spectral_deviation(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    r"""Relative spectral-norm distance \|E - R\|_2 / \|R\|_2 of two square matrices."""
    if estimate.shape != reference.shape:
        raise ValueError(
            f"spectral_deviation needs equal shapes, got {tuple(estimate.shape)} and "
            f"{tuple(reference.shape)}"
        )
    est, ref = estimate.to(torch.float64), reference.to(torch.float64)
    return float(torch.linalg.matrix_norm(est - ref, 2) / torch.linalg.matrix_norm(ref, 2))


def subspace_alignment(vectors: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    r"""Cosines of the principal angles between span(vectors) and span(basis), descending.

    Both ``[n, r]`` with orthonormal columns; all ones means the same subspace.
    """
    if vectors.shape[0] != basis.shape[0]:
        raise ValueError(
            f"subspace_alignment needs the same n, got {tuple(vectors.shape)} and "
            f"{tuple(basis.shape)}"
        )
    v, b = vectors.to(torch.float64), basis.to(torch.float64)
    return torch.linalg.svdvals(v.T @ b).clamp(max=1.0)


def eigenvector_alignment(u: torch.Tensor, ranks: list[int]) -> dict[int, float]:
    r"""For each r: mean cos² of the principal angles between the top-r eigenvectors of the
    explicit \Sigma(U) and the r trigonometric functions of largest eq (11) weight.

    Use odd r (the constant plus cosine/sine pairs) so as not to split a degenerate pair.
    """
    evals, evecs = torch.linalg.eigh(explicit_sigma(u))
    evecs = evecs.flip(1)
    _, basis = sorted_weights(u)
    out = {}
    for r in ranks:
        if not 1 <= r <= u.numel():
            raise ValueError(f"alignment rank must lie in [1, {u.numel()}], got {r}")
        cos = subspace_alignment(evecs[:, :r], basis[:, :r])
        out[int(r)] = float(cos.square().mean())
    return out
