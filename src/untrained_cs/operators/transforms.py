"""Orthonormal fast transforms along the last dimension (pure functions).

The DCT-II is computed with one FFT of a reordered sequence (Makhoul's method), so it costs
O(n log n) time and O(n) memory; its inverse (the DCT-III) is its transpose.
"""

from __future__ import annotations

import math

import torch


def _twiddle(n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    k = torch.arange(n, device=device, dtype=dtype)
    return torch.exp(-1j * math.pi * k / (2 * n))


def _ortho_scale(n: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    s = torch.full((n,), math.sqrt(2.0 / n), device=device, dtype=dtype)
    s[0] = math.sqrt(1.0 / n)
    return s


def dct(x: torch.Tensor) -> torch.Tensor:
    r"""Orthonormal DCT-II along the last dimension.

    X_k = s_k \sum_j x_j \cos(\pi k (2j+1) / (2n)), s_0 = \sqrt{1/n}, s_k = \sqrt{2/n}.
    """
    n = x.shape[-1]
    v = torch.cat([x[..., 0::2], x[..., 1::2].flip(-1)], dim=-1)
    spectrum = torch.fft.fft(v, dim=-1)
    real = x.dtype
    cdtype = torch.complex128 if real == torch.float64 else torch.complex64
    out = (spectrum * _twiddle(n, x.device, real).to(cdtype)).real
    return out * _ortho_scale(n, x.device, real)


def idct(c: torch.Tensor) -> torch.Tensor:
    """Inverse (= transpose) of :func:`dct`: the orthonormal DCT-III along the last dimension."""
    n = c.shape[-1]
    real = c.dtype
    cdtype = torch.complex128 if real == torch.float64 else torch.complex64
    a = c / _ortho_scale(n, c.device, real)  # undo the orthonormal scaling
    # With a_k = Re(w_k V_k) and V real-symmetric: V_k = conj(w_k) (a_k - i a_{n-k}), a_n := 0.
    shifted = torch.cat([torch.zeros_like(a[..., :1]), a[..., 1:].flip(-1)], dim=-1)
    spectrum = (a - 1j * shifted) * _twiddle(n, c.device, real).conj().to(cdtype)
    v = torch.fft.ifft(spectrum, dim=-1).real
    half = (n + 1) // 2
    x = torch.empty_like(c)
    x[..., 0::2] = v[..., :half]
    x[..., 1::2] = v[..., half:].flip(-1)
    return x
