"""MRI data: the default dipy T1 slice with simulated multi-coil k-space, and fastMRI files.

Both give an :class:`MRIData`: fully sampled k-space ``[coils, H, W]`` (complex), the
magnitude ground truth used for metrics (fastMRI: the file's ``reconstruction_rss`` /
``reconstruction_esc`` when present, else the RSS of the full k-space, centre-cropped to
320x320 as fastMRI evaluates) and, for simulated data, the coil sensitivity maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..operators import noise
from ..operators.noise import std_for_snr
from .coils import check_maps, simulated_maps
from .fastmri import FileFacts, file_facts
from .fft import fft2c, ifft2c, rss

CROP = 320
#: the side of dipy's T1 slice, the default MRI image when it is not resampled
DEFAULT_SIDE = 256
TARGET_KEYS = ("reconstruction_rss", "reconstruction_esc")


@dataclass
class MRIData:
    """K-space and its ground truth: fully sampled, or undersampled as a fastMRI test file
    holds it (its mask in ``facts``, no ground truth).

    Attributes:
        kspace: complex64 ``[coils, H, W]`` (coils = 1 for single-coil data).
        target: float32 ``[h, w]`` magnitude ground truth (h <= H, w <= W: a centre crop);
            None for undersampled k-space without a reconstruction (test files).
        crop: the ``[h, w]`` estimates are cropped to (the target's, or the header's
            reconstruction size).
        maps: complex64 ``[coils, H, W]`` sensitivities when known (simulated), else None.
        source: where it came from (for the record).
        slice_index: the slice read from a file (None for the default slice).
        noise_std: std of the complex noise added (0 when none).
        real: the underlying image is known to be real (simulated data).
        facts: a fastMRI file's header, mask and attributes (None: simulated data).
    """

    kspace: torch.Tensor
    target: torch.Tensor | None
    maps: torch.Tensor | None
    source: str
    slice_index: int | None = None
    noise_std: float = 0.0
    real: bool = False
    facts: FileFacts | None = None
    crop: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.crop is None:
            if self.target is None:
                raise ValueError("MRI data without a target need the crop size")
            self.crop = (int(self.target.shape[0]), int(self.target.shape[1]))

    @property
    def undersampled(self) -> bool:
        """The k-space comes undersampled with its own mask (a fastMRI test file)."""
        return self.facts is not None and self.facts.mask is not None

    @property
    def coils(self) -> int:
        return int(self.kspace.shape[0])


def center_crop(x: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """The centre ``shape`` of the last two axes (fastMRI's convention for odd margins)."""
    h, w = x.shape[-2:]
    ch, cw = min(shape[0], h), min(shape[1], w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return x[..., top : top + ch, left : left + cw]


def brain_slice(index: int, size: int | None = None) -> torch.Tensor:
    """Slice ``index`` of the bundled 10-slice brain volume (:mod:`untrained_cs.io.volumes`,
    scaled by its 99.9th percentile, in [0, 1]) as float64, resampled to ``size``."""
    from ..io.volumes import BUNDLED_VOLUME, load_volume

    side = None if size is None else (size, size)
    volume, _ = load_volume(BUNDLED_VOLUME, side, 99.9)
    if not 0 <= index < volume.shape[1]:
        raise ValueError(f"slice {index} is out of range: the brain volume holds slices "
                         f"0..{volume.shape[1] - 1}")  # fmt: skip
    return volume[0, index].double()


def default_image(size: int | None = None) -> torch.Tensor:
    """dipy's real T1 coronal slice (:data:`DEFAULT_SIDE` square, in [0, 1]) as float64,
    resampled to ``size``."""
    from dipy.data import get_fnames

    image = np.load(get_fnames(name="t1_coronal_slice")).astype(np.float64)
    if size is not None and size != image.shape[0]:
        if size < 8:
            raise ValueError(f"--size must be >= 8, got {size}")
        from skimage.transform import resize

        image = resize(image, (size, size), anti_aliasing=size < image.shape[0], order=1)
    image = image / max(float(image.max()), 1e-12)
    return torch.from_numpy(np.clip(image, 0.0, 1.0))


def check_kspace(kspace: torch.Tensor, what: str = "k-space") -> None:
    """Raise ``ValueError`` unless ``kspace`` is a finite ``[coils, H, W]`` array."""
    if kspace.dim() != 3:
        raise ValueError(f"{what} must be [coils, H, W], got {list(kspace.shape)}")
    if not bool(torch.isfinite(torch.view_as_real(kspace.to(torch.complex64))).all()):
        raise ValueError(f"{what} contains NaN or inf values")
    if not bool((kspace != 0).any()):
        raise ValueError(f"{what} is all zero: there is nothing to reconstruct")


def add_noise(kspace: torch.Tensor, snr_db: float, seed: int) -> tuple[torch.Tensor, float]:
    """Add circular complex Gaussian noise with mean|k|^2 / sigma^2 = 10^{snr/10}.

    Returns:
        the noisy k-space and the noise std sigma (E|n|^2 = sigma^2 per entry).
    """
    sigma = std_for_snr(kspace, snr_db)
    return noise.add_noise(kspace, sigma, seed), sigma


def simulate(
    image: torch.Tensor,
    coils: int = 8,
    snr_db: float | None = None,
    seed: int = 0,
    maps: torch.Tensor | None = None,
) -> MRIData:
    """Fully sampled multi-coil k-space k_c = F(S_c x) of a real image ``[H, W]``.

    Args:
        image: ground truth ``[H, W]`` in [0, 1].
        coils: number of simulated coils (ignored when ``maps`` is given).
        snr_db: optional noise level in dB (see :func:`add_noise`); None = noiseless.
        seed: noise seed.
        maps: sensitivities ``[coils, H, W]``; default :func:`simulated_maps`.

    Returns:
        an :class:`MRIData` whose target is the image itself (sum_c |S_c|^2 = 1).
    """
    if image.dim() != 2:
        raise ValueError(f"simulate needs an image [H, W], got {list(image.shape)}")
    if coils < 1:
        raise ValueError(f"--coils must be >= 1, got {coils}")
    h, w = image.shape
    if maps is None:
        maps = simulated_maps(coils, h, w)
    check_maps(maps, maps.shape[0] if maps.dim() == 3 else coils, h, w)
    kspace = fft2c(maps.to(torch.complex128) * image.to(torch.complex128)[None])
    sigma = 0.0
    if snr_db is not None:
        kspace, sigma = add_noise(kspace, snr_db, seed)
    return MRIData(kspace.to(torch.complex64), image.float(), maps, "simulated", None, sigma, True)


def _open(path: Path):
    import h5py

    if not path.exists():
        raise ValueError(f"k-space file {path} does not exist")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"cannot read {path} as an HDF5 (fastMRI .h5) file: {exc}") from None


def _slice_index(count: int, index: int | None, path: Path) -> int:
    if index is None:
        return count // 2
    if not 0 <= index < count:
        raise ValueError(f"--slice {index} is out of range: {path} holds slices 0..{count - 1}")
    return index


def read_fastmri(path: str | Path, slice_index: int | None = None) -> MRIData:
    """Read one slice of a fastMRI ``.h5`` file.

    Single-coil files hold ``kspace`` ``[slices, H, W]``, multi-coil ``[slices, coils, H, W]``
    (complex). The target is ``reconstruction_rss`` (multi-coil) or ``reconstruction_esc``
    (single-coil) when present, else the RSS of the inverse FFT, centre-cropped to the
    header's reconstruction size (320x320 without a header). The header, the file's
    ``mask`` and its attributes are read too (:mod:`.fastmri`): a file with a mask (test
    and challenge files) holds undersampled k-space, so without a reconstruction it has
    no ground truth (``target`` None), and its mask is the one a fit uses.

    Args:
        path: the ``.h5`` file.
        slice_index: which slice (default: the middle one).

    Raises:
        ValueError: missing or unreadable file, no ``kspace``, wrong dimensions, slice out
            of range, non-finite values, a target larger than the image.
    """
    path = Path(path)
    with _open(path) as f:
        if "kspace" not in f:
            raise ValueError(f"{path} has no 'kspace' dataset (found: {sorted(f.keys())})")
        ds = f["kspace"]
        if ds.ndim not in (3, 4):
            raise ValueError(
                f"{path}: kspace must be [slices, H, W] or [slices, coils, H, W], "
                f"got {list(ds.shape)}"
            )
        index = _slice_index(ds.shape[0], slice_index, path)
        kspace = torch.from_numpy(np.asarray(ds[index]).astype(np.complex64))
        if kspace.dim() == 2:
            kspace = kspace[None]
        key = next((k for k in TARGET_KEYS if k in f), None)
        target = None if key is None else torch.from_numpy(np.asarray(f[key][index], np.float32))
        facts = file_facts(f, str(path))
    check_kspace(kspace, f"{path}: kspace slice {index}")
    h, w = kspace.shape[-2:]
    if facts.header is not None and (facts.header.recon[0] > h or facts.header.recon[1] > w):
        raise ValueError(
            f"{path}: reconstruction size {facts.header.recon} is larger than the {h}x{w} matrix"
        )
    crop = (CROP, CROP) if facts.header is None else facts.header.recon
    if facts.mask is not None and facts.mask.size != w:
        raise ValueError(f"{path}: mask has {facts.mask.size} entries for {w} k-space columns")
    if target is None and facts.mask is None:
        target = center_crop(rss(ifft2c(kspace)), crop).float()
    elif target is not None and (target.dim() != 2 or target.shape[0] > h or target.shape[1] > w):
        raise ValueError(f"{path}: {key} slice has shape {list(target.shape)}; image is {h}x{w}")
    return MRIData(kspace, target, None, str(path), index, facts=facts, crop=crop)
