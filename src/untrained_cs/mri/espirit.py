"""Coil sensitivity maps from the data: ESPIRiT (Uecker et al., MRM 2014).

Why ESPIRiT: it is the calibration the reconstruction tools users reach for (BART's
``ecalib``, SigPy's ``EspiritCalib``) use, it needs only the fully sampled centre of
k-space (which every Cartesian mask here keeps), and its maps come with eigenvalues that
say where there is signal.

The steps, in the form the code takes them: the calibration region (the centre of
k-space, every coil: ``calib`` rows by ``calib`` columns, or the fully sampled centre
columns of undersampled data) gives a matrix whose rows are all ``kernel`` x
``kernel`` patches over the coils; its right singular vectors above ``threshold`` x the
largest singular value span the signal's patches. Zero-padded to the image and taken to
image space, these kernels give at every pixel r a coils x coils matrix
W(r) = (1/kernel²) Σ_j g_j(r) g_j(r)ᴴ whose eigenvector of eigenvalue ≈ 1 is the
sensitivity vector there; pixels whose largest eigenvalue is below ``crop`` get 0 (no
signal). Each pixel's vector has an arbitrary phase: it is set so that the coil-combined
low-resolution image of the calibration data is real and positive, which makes the image a
SENSE fit looks for real (the MRI problem's sigmoid image) up to the maps' smoothness.
"""

from __future__ import annotations

import torch

from .fft import ifft2c

CALIB = 24
KERNEL = 6
THRESHOLD = 0.02
CROP = 0.8
#: power iterations per pixel (:func:`top_eigenpairs`)
POWER_ITERATIONS = 30


def calibration_region(kspace: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """The centre ``rows`` x ``cols`` of k-space ``[..., coils, H, W]``."""
    h, w = kspace.shape[-2:]
    if rows > h or cols > w:
        raise ValueError(f"the calibration region {rows}x{cols} is larger than the {h}x{w} k-space")
    top, left = h // 2 - rows // 2, w // 2 - cols // 2
    return kspace[..., top : top + rows, left : left + cols]


def signal_kernels(acs: torch.Tensor, kernel: tuple[int, int], threshold: float) -> torch.Tensor:
    """The k-space kernels ``[r, coils, kernel, kernel]`` spanning the calibration
    patches: the rows of Vᴴ (conjugated right singular vectors) whose singular value is
    above ``threshold`` x the largest; conjugated, they correlate with the data, so taken
    to image space unflipped they are the sensitivities' conjugate-free form W(r) needs."""
    coils, rows, cols = acs.shape
    ky, kx = kernel
    ny, nx = rows - ky + 1, cols - kx + 1
    patches = torch.stack(
        [acs[:, dy : dy + ny, dx : dx + nx] for dy in range(ky) for dx in range(kx)], dim=1
    )  # [coils, ky·kx, ny, nx]
    matrix = patches.reshape(coils * ky * kx, ny * nx).T  # rows: patches
    _, s, vh = torch.linalg.svd(matrix, full_matrices=False)
    keep = s > threshold * s[0]
    return vh[keep].reshape(-1, coils, ky, kx)


def espirit_maps(
    kspace: torch.Tensor,
    calib: int = CALIB,
    kernel: int = KERNEL,
    threshold: float = THRESHOLD,
    crop: float = CROP,
    center_columns: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """ESPIRiT maps of one slice's k-space ``[coils, H, W]`` (see module docstring).

    Only the calibration region is read: the centre ``calib`` rows and ``calib`` columns,
    or the ``center_columns`` fully sampled ones of Cartesian undersampled k-space (the
    kernel narrows to fit), so undersampled k-space gives the maps of its centre.

    Returns:
        the maps ``[coils, H, W]`` (complex64, unit norm over the coils where there is
        signal, 0 elsewhere) and the largest eigenvalue per pixel ``[H, W]``.

    Raises:
        ValueError: k-space that is not complex ``[coils, H, W]``, one coil, or a
            calibration region under 3 columns.
    """
    if kspace.dim() != 3 or not kspace.is_complex():
        raise ValueError(f"ESPIRiT takes complex k-space [coils, H, W], got {list(kspace.shape)}")
    coils, h, w = kspace.shape
    if coils < 2:
        raise ValueError("coil maps need multi-coil k-space (this has one coil)")
    cols = min(calib, w) if center_columns is None else center_columns
    if cols < 3:
        raise ValueError(f"{cols} fully sampled centre column(s) are too few for coil maps "
                         "(at least 3; raise the centre fraction)")  # fmt: skip
    rows = min(calib, h)
    acs = calibration_region(kspace.to(torch.complex128), rows, cols)
    ky, kx = min(kernel, rows), min(kernel, max(cols - 2, 2))  # a few patch positions
    kernels = signal_kernels(acs, (ky, kx), threshold)  # [r, coils, ky, kx]
    gram = pixel_gram(kernels, h, w)  # W(r) per pixel [H, W, coils, coils]
    low = _low_resolution_image(acs, h, w)  # [coils, H, W]
    top_value, vectors = top_eigenpairs(gram, low.permute(1, 2, 0).to(gram.dtype))
    maps = vectors.permute(2, 0, 1)  # [coils, H, W]
    maps = maps * (top_value >= crop)
    combined = (maps.conj() * low.to(maps.dtype)).sum(0)
    maps = maps * torch.exp(1j * torch.angle(combined))[None]
    return maps.to(torch.complex64), top_value.float()


def pixel_gram(kernels: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """W(r) = (1/kernel²) Σ_j g_j(r) g_j(r)ᴴ at every pixel ``[H, W, coils, coils]``, g_j the
    image-space form of kernel j (zero-padded to H x W, scaled to unit gain).

    Computed through k-space: g_jc(r) conj(g_jd(r)) is the transform of the kernels'
    cross-correlation, so W is the transform of C_cd(δ) = Σ_j Σ_k K_jc(k + δ) conj(K_jd(k))
    ((2·kernel − 1)² values per coil pair, from FFTs of the small kernels): coils² transforms
    of H x W in place of kernels x coils of them and a sum over the kernels at every pixel.
    """
    _, coils, ky, kx = kernels.shape
    sy, sx = 2 * ky - 1, 2 * kx - 1  # every shift δ, without wrapping
    spectra = torch.fft.fft2(kernels, s=(sy, sx))
    corr = torch.fft.ifft2(torch.einsum("jcyx,jdyx->cdyx", spectra, spectra.conj()))
    corr = torch.fft.fftshift(corr, dim=(-2, -1))  # δ = 0 at (ky - 1, kx - 1)
    # the image-space work in single precision: the maps are complex64, and it halves the
    # cost of the coils² transforms and of the power iteration
    full = corr.new_zeros((coils, coils, h, w), dtype=torch.complex64)
    top, left = h // 2 - (ky - 1), w // 2 - (kx - 1)
    full[..., top : top + sy, left : left + sx] = corr
    return (ifft2c(full) * ((h * w) ** 0.5 / (ky * kx))).permute(2, 3, 0, 1)


def top_eigenpairs(
    gram: torch.Tensor, start: torch.Tensor, iterations: int = POWER_ITERATIONS
) -> tuple[torch.Tensor, torch.Tensor]:
    """The largest eigenvalue and its unit eigenvector of each Hermitian PSD matrix
    ``gram [..., n, n]``, by power iteration from ``start [..., n]``.

    ESPIRiT needs only the top pair per pixel, and where there is signal its eigenvalue
    (≈ 1) stands well above the next, so a few batched products from the low-resolution
    coil images (already close to the sensitivities) converge: far cheaper than a full
    eigendecomposition per pixel, and one code path on every device.
    """
    v = start / start.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    for _ in range(iterations):
        v = (gram @ v.unsqueeze(-1)).squeeze(-1)
        v = v / v.norm(dim=-1, keepdim=True).clamp_min(1e-30)
    value = torch.einsum("...c,...cd,...d->...", v.conj(), gram, v).real
    return value, v


def _low_resolution_image(acs: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """The coil images of the calibration region alone, at the full size ``[coils, H, W]``."""
    rows, cols = acs.shape[-2:]
    full = acs.new_zeros((acs.shape[0], h, w))
    top, left = h // 2 - rows // 2, w // 2 - cols // 2
    full[:, top : top + rows, left : left + cols] = acs
    return ifft2c(full)


def map_error(estimate: torch.Tensor, truth: torch.Tensor, where: torch.Tensor) -> float:
    """Relative error of estimated maps against true ones over the pixels ``where``, after
    aligning each pixel's phase (maps are defined up to one phase per pixel) and scaling
    the true maps to unit norm over the coils."""
    t = truth.to(torch.complex128)
    t = t / t.abs().square().sum(0, keepdim=True).sqrt().clamp_min(1e-30)
    e = estimate.to(torch.complex128)
    phase = torch.exp(1j * torch.angle((t.conj() * e).sum(0)))
    diff = (e * phase.conj()[None] - t)[:, where]
    return float(diff.abs().square().sum().sqrt() / t[:, where].abs().square().sum().sqrt())
