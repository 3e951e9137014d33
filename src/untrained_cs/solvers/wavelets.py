"""Orthonormal periodised wavelet transforms (1D, separable 2D) and the ℓ1 prox on them.

The filters are PyWavelets' orthogonal filter banks; the transform itself runs in torch on
the tensor's device and dtype, batched over all leading dimensions. One level of the 1D
transform of a segment of even length e is

    a_k = \\sum_j h_j s_{(2k + j + o) mod e},   d_k = \\sum_j g_j s_{(2k + j + o) mod e},

with h, g the reconstruction low/high-pass filters of length L and o = 1 − L/2 (the phase
of PyWavelets' ``mode="periodization"``, so even sizes give its coefficients). Periodising
an orthonormal filter bank keeps it orthonormal for every even e, even e < L. A segment of
odd length n transforms its first n − 1 entries and carries the last one into the
approximation band, so every size has an orthonormal transform with coefficients shaped
like the signal: approximation first, then the carried entry, then the details.
A 2D level applies the 1D level along the width, then along the height, of the current
approximation block; the final approximation block is the top-left corner.
"""

from __future__ import annotations

import functools

import pywt
import torch
import torch.nn.functional as F

from .norms import expand_to, spatial_ndim

#: the wavelet and the number of levels (capped by the size, at least one).
WAVELET = "db4"
LEVELS = 4


@functools.lru_cache(maxsize=64)
def _wrap(even: int, taps: int) -> torch.Tensor:
    """Indices (i + o) mod even, i < even + taps − 2: the periodised window of one level."""
    return (torch.arange(even + taps - 2) + 1 - taps // 2) % even


def _filters(name: str, like: torch.Tensor) -> torch.Tensor:
    """The (low, high) reconstruction filters as a conv weight ``[2, 1, L]``."""
    w = pywt.Wavelet(name)
    if not w.orthogonal:
        raise ValueError(f"wavelet {name!r} is not orthogonal; use e.g. 'haar', 'db4', 'sym8'")
    bank = torch.tensor([w.rec_lo, w.rec_hi], dtype=like.dtype, device=like.device)
    return bank[:, None]


def _analysis_1d(seg: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """One level along the last axis: ``[..., n]`` → (approximation, carried, details)."""
    n = seg.shape[-1]
    even = n - n % 2
    if even == 0:
        return seg
    wrapped = seg[..., _wrap(even, bank.shape[-1]).to(seg.device)]
    coef = F.conv1d(wrapped.reshape(-1, 1, wrapped.shape[-1]), bank, stride=2)  # [N, 2, e/2]
    coef = coef.reshape(*seg.shape[:-1], 2, even // 2)
    return torch.cat([coef[..., 0, :], seg[..., even:], coef[..., 1, :]], dim=-1)


def _synthesis_1d(coef: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:
    """Inverse (= adjoint) of :func:`_analysis_1d` along the last axis."""
    n = coef.shape[-1]
    odd, half = n % 2, (n - n % 2) // 2
    if half == 0:
        return coef
    bands = torch.stack([coef[..., :half], coef[..., half + odd :]], dim=-2)
    wrapped = F.conv_transpose1d(bands.reshape(-1, 2, half), bank, stride=2)[:, 0]
    idx = _wrap(2 * half, bank.shape[-1]).to(coef.device)
    out = torch.zeros(wrapped.shape[0], 2 * half, dtype=coef.dtype, device=coef.device)
    out = out.index_add(1, idx, wrapped).reshape(*coef.shape[:-1], 2 * half)
    return torch.cat([out, coef[..., half : half + odd]], dim=-1)


def _along(fn, t: torch.Tensor, axis: int, bank: torch.Tensor) -> torch.Tensor:
    return fn(t.movedim(axis, -1), bank).movedim(-1, axis)


class WaveletTransform:
    """The orthonormal periodised wavelet transform W over the last one, two or three axes.

    Args:
        spatial: the transformed sizes, ``(n,)`` (1D), ``(H, W)`` (2D) or ``(D, H, W)`` (3D).
        wavelet: an orthogonal PyWavelets name; levels: requested levels (capped so the
            approximation is not shorter than the filter, at least one level).
    """

    def __init__(
        self, spatial: tuple[int, ...], wavelet: str = WAVELET, levels: int = LEVELS
    ) -> None:
        if len(spatial) not in (1, 2, 3):
            raise ValueError(f"WaveletTransform works on 1 to 3 axes, got sizes {spatial}")
        self.spatial = tuple(int(s) for s in spatial)
        self.wavelet = wavelet
        taps = pywt.Wavelet(wavelet).dec_len
        self.levels = max(1, min(levels, pywt.dwt_max_level(min(self.spatial), taps)))
        sizes = [self.spatial]
        for _ in range(self.levels):
            sizes.append(tuple(s // 2 + s % 2 for s in sizes[-1]))
        self.sizes = sizes  # approximation-block sizes before each level, then the last

    @property
    def axes(self) -> tuple[int, ...]:
        return tuple(range(-len(self.spatial), 0))

    def _check(self, x: torch.Tensor) -> None:
        if tuple(x.shape[-len(self.spatial) :]) != self.spatial:
            raise ValueError(
                f"WaveletTransform of sizes {list(self.spatial)} got a tensor {list(x.shape)}"
            )

    @staticmethod
    def _block(size: tuple[int, ...]) -> tuple:
        return (Ellipsis, *(slice(0, s) for s in size))

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        """W x: coefficients shaped like ``x`` ``[..., *spatial]``."""
        self._check(x)
        bank = _filters(self.wavelet, x)
        c = x.clone()
        for size in self.sizes[:-1]:
            block = c[self._block(size)]
            for axis in reversed(self.axes):
                block = _along(_analysis_1d, block, axis, bank)
            c[self._block(size)] = block
        return c

    def synthesis(self, c: torch.Tensor) -> torch.Tensor:
        """W^T c = W^{-1} c: the signal ``[..., *spatial]`` from its coefficients."""
        self._check(c)
        bank = _filters(self.wavelet, c)
        x = c.clone()
        for size in reversed(self.sizes[:-1]):
            block = x[self._block(size)]
            for axis in self.axes:
                block = _along(_synthesis_1d, block, axis, bank)
            x[self._block(size)] = block
        return x

    def detail_mask(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """Boolean ``[*spatial]``: True on detail coefficients, False on the approximation."""
        mask = torch.ones(self.spatial, dtype=torch.bool, device=device)
        mask[tuple(slice(0, s) for s in self.sizes[-1])] = False
        return mask


def wavelet_for(in_shape: tuple[int, ...], wavelet: str = WAVELET, levels: int = LEVELS):
    """The transform for signals ``[C, n]`` / ``[n]`` (1D), images ``[C, H, W]`` (2D) or
    volumes ``[C, D, H, W]`` (3D); every channel is transformed on its own.

    Args:
        in_shape: an operator's input shape (channels first); wavelet, levels: as
            :class:`WaveletTransform`.

    Returns:
        a :class:`WaveletTransform` over the spatial axes.
    """
    return WaveletTransform(tuple(in_shape[-spatial_ndim(in_shape) :]), wavelet, levels)


def soft_threshold(c: torch.Tensor, thresh: torch.Tensor | float) -> torch.Tensor:
    """sign(c) max(|c| − t, 0) entrywise; ``thresh`` a scalar or per member ``[B]``."""
    t = torch.as_tensor(thresh, dtype=c.dtype, device=c.device)
    t = expand_to(t, c) if t.dim() == 1 else t
    return torch.sign(c) * (c.abs() - t).clamp_min(0.0)


def l1_norm(x: torch.Tensor, transform: WaveletTransform) -> torch.Tensor:
    """||W_d x||_1 per member ``[B]``: the detail coefficients' ℓ1 norm (approximation free)."""
    c = transform.analysis(x) * transform.detail_mask(x.device)
    return c.abs().reshape(x.shape[0], -1).sum(1)


def prox_l1(
    x: torch.Tensor, thresh: torch.Tensor | float, transform: WaveletTransform
) -> torch.Tensor:
    """Prox of t ||W_d x||_1: soft-threshold the details, keep the approximation band.

    Args:
        x: signals ``[B, ..., *spatial]``; thresh: t, a scalar or per member ``[B]``;
        transform: the orthonormal W (for which the prox is exact).

    Returns:
        W^T (approximation of W x, soft-thresholded details of W x), shaped like ``x``.
    """
    c = transform.analysis(x)
    shrunk = soft_threshold(c, thresh)
    return transform.synthesis(torch.where(transform.detail_mask(x.device), shrunk, c))
