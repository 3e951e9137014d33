"""Volumes: NIfTI files (through nibabel) and the bundled brain volume, as ``[1, D, H, W]``.

NIfTI stores a volume as (x, y, z) with an affine to scanner space; here the last axis (the
slices) comes first, ``[1, z, x, y]``, and :func:`write_nifti` puts it back with the same
affine, so an estimate overlays its input in any viewer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

#: dipy's bundled 10-slice brain volume (128 × 128 × 10, shipped inside the package)
BUNDLED_VOLUME = "brain"


def bundled_volume_path() -> Path:
    """The file of dipy's bundled brain volume (no download: it ships with dipy)."""
    from dipy.data import get_fnames

    return Path(get_fnames(name="S0_10"))


def read_nifti(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """A 3D NIfTI volume (x, y, z) as float64 and its 4 × 4 affine (one-line errors)."""
    import nibabel

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"volume {str(p)!r}: no such file")
    try:
        image: Any = nibabel.load(str(p))
        data = np.asarray(image.get_fdata(), dtype=np.float64)
    except Exception as exc:  # nibabel raises many types for damaged files
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"volume {str(p)!r} could not be read as NIfTI: {reason}") from None
    data = np.squeeze(data)
    if data.ndim != 3:
        raise ValueError(f"volume {str(p)!r} has shape {data.shape}; expected 3 axes (x, y, z)")
    bad = int(data.size - np.count_nonzero(np.isfinite(data)))
    if bad:
        raise ValueError(f"volume {str(p)!r} has {bad} NaN or infinite voxel(s)")
    return data, np.asarray(image.affine, dtype=np.float64)


def load_volume(
    source: str, size: tuple[int, int] | None = None
) -> tuple[torch.Tensor, np.ndarray]:
    """The volume ``source`` (``"brain"`` or a NIfTI path) as ``[1, D, H, W]`` float32 in
    [0, 1] (scaled by its maximum), each slice resized to ``size`` when given, and its affine.
    """
    path = bundled_volume_path() if source == BUNDLED_VOLUME else Path(source)
    data, affine = read_nifti(path)
    peak = float(np.abs(data).max())
    if peak == 0:
        raise ValueError(f"volume {source!r} is all zero")
    slices = np.clip(np.moveaxis(data, 2, 0) / peak, 0.0, 1.0)  # [z, x, y]
    if size is not None and tuple(slices.shape[1:]) != tuple(size):
        from skimage.transform import resize

        slices = resize(slices, (slices.shape[0], *size), anti_aliasing=True, order=3)
    return torch.from_numpy(np.ascontiguousarray(slices[None])).float(), affine


def write_nifti(path: str | Path, volume: np.ndarray, affine: np.ndarray | None = None) -> None:
    """Write ``[1, D, H, W]`` (or ``[D, H, W]``) as a float32 NIfTI volume (x, y, z)."""
    import nibabel

    data = np.asarray(volume, dtype=np.float32)
    if data.ndim == 4:
        data = data[0]
    image = nibabel.Nifti1Image(np.moveaxis(data, 0, 2), np.eye(4) if affine is None else affine)
    nibabel.save(image, str(path))
