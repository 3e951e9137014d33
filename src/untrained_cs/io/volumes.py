"""Volumes: NIfTI files (through nibabel), arrays (``.npy`` …) and the bundled brain volume,
as ``[1, D, H, W]``.

NIfTI stores a volume as (x, y, z) with an affine to scanner space; here the last axis (the
slices) comes first, ``[1, z, x, y]``, and :func:`write_nifti` puts it back with the same
affine, so an estimate overlays its input in any viewer. An array file holds the volume
slices first, ``[D, H, W]`` (or ``[1, D, H, W]``), as ``estimate.npy`` does; it has no affine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from .arrays import SUFFIXES as ARRAY_SUFFIXES
from .arrays import read_array

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


def is_nifti(path: str | Path) -> bool:
    """Whether ``path`` names a NIfTI file (``.nii`` or ``.nii.gz``)."""
    name = str(path).lower()
    return name.endswith(".nii") or name.endswith(".nii.gz")


def read_volume(source: str) -> tuple[np.ndarray, np.ndarray | None]:
    """The volume ``source`` as ``[D, H, W]`` float64 and its affine (None for arrays).

    Args:
        source: ``"brain"`` (dipy's bundled volume), a NIfTI file, or an array file
            (``.npy``, ``.npz``, HDF5, ``.mat``) holding ``[D, H, W]`` or ``[1, D, H, W]``.

    Raises:
        ValueError: one line naming the file: missing, unreadable, not 3D, complex, not finite.
    """
    if source == BUNDLED_VOLUME or is_nifti(source):
        path = bundled_volume_path() if source == BUNDLED_VOLUME else Path(source)
        data, affine = read_nifti(path)
        return np.moveaxis(data, 2, 0), affine  # (x, y, z) -> [z, x, y]
    if Path(source).suffix.lower() not in ARRAY_SUFFIXES:
        raise ValueError(
            f"volume {source!r}: use 'brain', a NIfTI file (.nii, .nii.gz) or an array file "
            f"({', '.join(ARRAY_SUFFIXES)})"
        )
    array = read_array(source, what="volume")
    if np.iscomplexobj(array):
        raise ValueError(f"volume file {source!r} holds complex values; give magnitudes")
    data = np.asarray(array, dtype=np.float64)
    if data.ndim == 4 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 3:
        raise ValueError(
            f"volume file {source!r} has shape {tuple(array.shape)}; expected 3 axes (D, H, W)"
        )
    return data, None


def load_volume(
    source: str, size: tuple[int, int] | None = None, percentile: float = 100.0
) -> tuple[torch.Tensor, np.ndarray | None]:
    """The volume ``source`` (see :func:`read_volume`) as ``[1, D, H, W]`` float32 in [0, 1],
    each slice resized to ``size`` when given, and its affine (None for array files).

    Scaling: divided by the ``percentile``-th percentile of its magnitudes (100: the
    maximum), then clipped to [0, 1] (negative values and the voxels above that percentile).
    """
    return scaled_volume(source, size, percentile)[:2]


def scaled_volume(
    source: str, size: tuple[int, int] | None = None, percentile: float = 100.0
) -> tuple[torch.Tensor, np.ndarray | None, float]:
    """:func:`load_volume` and the peak the volume was divided by (its original units)."""
    slices, affine = read_volume(source)
    peak = float(np.percentile(np.abs(slices), percentile))
    if peak <= 0:
        what = "all zero" if not slices.any() else f"zero at its {percentile:g}th percentile"
        raise ValueError(f"volume {source!r} is {what}")
    slices = np.clip(slices / peak, 0.0, 1.0)
    if size is not None and tuple(slices.shape[1:]) != tuple(size):
        from skimage.transform import resize

        slices = resize(slices, (slices.shape[0], *size), anti_aliasing=True, order=3)
        slices = np.clip(slices, 0.0, 1.0)  # cubic interpolation overshoots a little
    tensor = torch.from_numpy(np.ascontiguousarray(slices[None])).float()
    return tensor, affine, peak


def volume_shape(source: str) -> tuple[int, int, int]:
    """``(D, H, W)`` of ``source`` from its header alone where it can (NIfTI, ``.npy``), to
    size a run before the data is read; other array files are read."""
    path = bundled_volume_path() if source == BUNDLED_VOLUME else Path(source)
    if not path.is_file():
        raise ValueError(f"volume {str(path)!r}: no such file")
    shape: tuple[int, ...] | None = None
    try:
        if is_nifti(path):
            import nibabel

            shape = tuple(int(s) for s in nibabel.load(str(path)).shape if s != 1)  # type: ignore[attr-defined]
            shape = (shape[2], shape[0], shape[1]) if len(shape) == 3 else shape
        elif path.suffix.lower() == ".npy":
            shape = tuple(np.load(path, mmap_mode="r", allow_pickle=False).shape)
            shape = shape[1:] if len(shape) == 4 and shape[0] == 1 else shape
    except Exception:  # unreadable: read_volume says why, in one line
        shape = None
    if shape is None:
        shape = tuple(read_volume(source)[0].shape)
    if len(shape) != 3:
        raise ValueError(f"volume {source!r} has shape {shape}; expected 3 axes (D, H, W)")
    return (int(shape[0]), int(shape[1]), int(shape[2]))


def write_nifti(path: str | Path, volume: np.ndarray, affine: np.ndarray | None = None) -> None:
    """Write ``[1, D, H, W]`` (or ``[D, H, W]``) as a float32 NIfTI volume (x, y, z)."""
    import nibabel

    data = np.asarray(volume, dtype=np.float32)
    if data.ndim == 4:
        data = data[0]
    image = nibabel.Nifti1Image(np.moveaxis(data, 0, 2), np.eye(4) if affine is None else affine)
    nibabel.save(image, str(path))
