"""Classical MRI baselines: zero-filled inverse FFT, ℓ1-wavelet (FISTA) and total variation
(PDHG / Chambolle–Pock), each with its weight picked from a small grid by the ground truth.

They solve min_x ½||A x − y||² + λ R(x) for a complex image model: with known sensitivity
maps x is one image and A = M F S (SENSE), otherwise x holds one image per coil and
A = M F (then the estimate is the coils' RSS). ||A|| <= 1 in both cases (orthonormal FFT,
0/1 mask, sum_c |S_c|^2 = 1), so a unit step is safe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pywt
import torch

from .fft import fft2c, ifft2c, rss

Image = torch.Tensor
Metric = Callable[[torch.Tensor], float]
GRIDS = {"l1_wavelet": (1e-4, 3e-4, 1e-3, 3e-3), "tv": (3e-3, 1e-2, 3e-2, 1e-1)}


@dataclass
class Model:
    """A = M F S (maps given) or M F per coil (maps None), on complex images ``[K, H, W]``.

    With ``real`` the images are constrained to be real (a projection after every adjoint,
    which keeps FISTA and PDHG on the real subspace: A restricted to reals is R-linear).
    """

    mask: torch.Tensor  # [W] 0/1
    maps: torch.Tensor | None  # [C, H, W] or None
    real: bool = False  # constrain x to real images (the adjoint keeps the real part)

    def forward(self, x: Image) -> torch.Tensor:
        coil = self.maps * x if self.maps is not None else x
        return fft2c(coil) * self.mask

    def adjoint(self, y: torch.Tensor) -> Image:
        coil = ifft2c(y * self.mask)
        x = (self.maps.conj() * coil).sum(0, keepdim=True) if self.maps is not None else coil
        return x.real.to(x.dtype) if self.real else x

    def magnitude(self, x: Image) -> torch.Tensor:
        """The magnitude image ``[H, W]``: |x| with maps, RSS over coils without."""
        return x[0].abs() if self.maps is not None else rss(x)


def zero_filled(model: Model, y: torch.Tensor) -> torch.Tensor:
    """RSS of the zero-filled inverse FFT of every coil, ``[H, W]``."""
    return rss(ifft2c(y * model.mask))


def _wavelet_level(h: int, w: int, wavelet: str) -> int:
    return max(1, min(4, pywt.dwt_max_level(min(h, w), pywt.Wavelet(wavelet).dec_len)))


def wavelet_shrink(x: Image, thresh: float, wavelet: str = "db4") -> Image:
    """Prox of thresh*||W x||_1 (orthonormal periodised wavelet; approximation kept)."""
    h, w = x.shape[-2:]
    level = _wavelet_level(h, w, wavelet)
    out = []
    for img in x.cpu().numpy():
        coeffs = pywt.wavedec2(img, wavelet, mode="periodization", level=level)
        arr, slices = pywt.coeffs_to_array(coeffs)
        approx = arr[slices[0]].copy()
        mag = np.abs(arr)
        arr = arr * np.maximum(1.0 - thresh / np.maximum(mag, 1e-30), 0.0)
        arr[slices[0]] = approx
        rec = pywt.waverec2(
            pywt.array_to_coeffs(arr, slices, output_format="wavedec2"),
            wavelet,
            mode="periodization",
        )
        out.append(rec[:h, :w])
    return torch.from_numpy(np.stack(out)).to(x.dtype)


def l1_wavelet(model: Model, y: torch.Tensor, lam: float, iters: int = 60) -> Image:
    """FISTA on ½||A x − y||² + λ||W x||_1 from the zero-filled image (unit step)."""
    x = model.adjoint(y)
    z, t = x, 1.0
    for _ in range(iters):
        x_new = wavelet_shrink(z - model.adjoint(model.forward(z) - y), lam)
        t_new = (1.0 + (1.0 + 4.0 * t * t) ** 0.5) / 2.0
        z = x_new + ((t - 1.0) / t_new) * (x_new - x)
        x, t = x_new, t_new
    return x


def grad(x: Image) -> torch.Tensor:
    """Forward differences with zero at the far edge: ``[2, K, H, W]``."""
    gy = torch.zeros_like(x)
    gx = torch.zeros_like(x)
    gy[..., :-1, :] = x[..., 1:, :] - x[..., :-1, :]
    gx[..., :, :-1] = x[..., :, 1:] - x[..., :, :-1]
    return torch.stack([gy, gx])


def grad_adjoint(q: torch.Tensor) -> Image:
    """Exact adjoint of :func:`grad` (minus the divergence)."""
    qy, qx = q[0], q[1]
    out = torch.zeros_like(qy)
    out[..., :-1, :] -= qy[..., :-1, :]
    out[..., 1:, :] += qy[..., :-1, :]
    out[..., :, :-1] -= qx[..., :, :-1]
    out[..., :, 1:] += qx[..., :, :-1]
    return out


def total_variation(model: Model, y: torch.Tensor, lam: float, iters: int = 100) -> Image:
    """PDHG on ½||A x − y||² + λ TV(x) (isotropic), K = (A, ∇), τ = σ = 1/3 (||K||² <= 9)."""
    tau = sigma = 1.0 / 3.0
    x = model.adjoint(y)
    x_bar = x
    p = torch.zeros_like(y)
    q = torch.zeros_like(grad(x))
    for _ in range(iters):
        p = (p + sigma * (model.forward(x_bar) - y)) / (1.0 + sigma)
        q = q + sigma * grad(x_bar)
        norm = q.abs().square().sum(0, keepdim=True).sqrt()
        q = q / torch.clamp(norm / lam, min=1.0)
        x_new = x - tau * (model.adjoint(p) + grad_adjoint(q))
        x_bar = 2.0 * x_new - x
        x = x_new
    return x


SOLVERS: dict[str, Callable[[Model, torch.Tensor, float], Image]] = {
    "l1_wavelet": l1_wavelet,
    "tv": total_variation,
}


@dataclass
class BaselineResult:
    """One baseline: its magnitude image, metrics and the weight the oracle picked."""

    image: torch.Tensor
    psnr: float
    ssim: float
    weight: float | None


def run_baselines(
    model: Model,
    y: torch.Tensor,
    score: Callable[[torch.Tensor], tuple[float, float]],
    names: tuple[str, ...] = ("l1_wavelet", "tv"),
    grids: dict[str, tuple[float, ...]] | None = None,
) -> dict[str, BaselineResult]:
    """Zero-filled plus each named solver at its best weight (by PSNR against the truth).

    Args:
        model: the linear model; y: measured k-space ``[C, H, W]`` (complex).
        score: magnitude image ``[H, W]`` → (PSNR, SSIM) against the ground truth.
        names: solvers from :data:`SOLVERS`.
        grids: per solver, weights relative to max |A^H y| (default :data:`GRIDS`; the
            oracle picks the one of best PSNR).

    Returns:
        ``{name: BaselineResult}``, always with ``zero_filled`` first.
    """
    zf = zero_filled(model, y)
    out = {"zero_filled": BaselineResult(zf, *score(zf), None)}
    scale = float(model.adjoint(y).abs().max())
    for name in names:
        if name not in SOLVERS:
            raise ValueError(f"unknown baseline {name!r}; choose from {sorted(SOLVERS)}")
        best: BaselineResult | None = None
        for rel in (grids or GRIDS)[name]:
            img = model.magnitude(SOLVERS[name](model, y, rel * scale))
            ps, ss = score(img)
            if best is None or ps > best.psnr:
                best = BaselineResult(img, ps, ss, rel * scale)
        assert best is not None
        out[name] = best
    return out
