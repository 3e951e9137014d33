"""The estimate as numbers: ``estimate.npy`` always, float TIFF, NIfTI and fastMRI's
``reconstruction.h5`` on request.

Arrays keep the signal's own layout and range: ``[C, H, W]`` images (TIFF: channel-last
``H × W × C``, C = 1 dropped, as image readers expect), ``[1, D, H, W]`` volumes (NIfTI: x, y,
z, with the input's affine when known), ``[1, n]`` signals; MRI magnitudes ``[H, W]`` or
``[slices, H, W]`` as fastMRI's submissions hold them (a ``reconstruction`` dataset
``[slices, H, W]``, float32).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .volumes import write_nifti

#: the formats a run can write beside ``estimate.npy`` (``--save``)
FORMATS = ("tiff", "nifti", "fastmri")


def check_formats(formats: Sequence[str], volume: bool) -> tuple[str, ...]:
    """``formats`` checked: known names, NIfTI only for volumes (one-line errors)."""
    out = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
    unknown = [f for f in out if f not in FORMATS]
    if unknown:
        raise ValueError(
            f"unknown save format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}"
        )
    if "nifti" in out and not volume:
        raise ValueError("--save nifti applies to volumes only")
    return out


def write_estimate(
    folder: str | Path,
    estimate: np.ndarray,
    formats: Sequence[str] = (),
    affine: np.ndarray | None = None,
    stem: str = "estimate",
) -> list[str]:
    """Write ``estimate`` (float32) into ``folder`` as ``{stem}.npy`` and ``formats``.

    Returns:
        the names of the files written.
    """
    folder = Path(folder)
    data = np.ascontiguousarray(np.asarray(estimate, dtype=np.float32))
    names = [f"{stem}.npy"]
    np.save(folder / names[0], data, allow_pickle=False)
    for fmt in formats:
        if fmt == "tiff":
            import tifffile

            image = np.moveaxis(data, 0, -1) if data.ndim == 3 else data
            rgb = data.ndim == 3 and data.shape[0] == 3
            if image.shape[-1] == 1:
                image = np.squeeze(image, -1)
            names.append(f"{stem}.tiff")
            tifffile.imwrite(folder / names[-1], image, photometric="rgb" if rgb else "minisblack")
        elif fmt == "nifti":
            names.append(f"{stem}.nii.gz")
            write_nifti(folder / names[-1], data, affine)
        elif fmt == "fastmri":
            names.append(write_reconstruction(folder / "reconstruction.h5", data).name)
    return names


def write_reconstruction(path: str | Path, volume: np.ndarray) -> Path:
    """A fastMRI submission file: ``reconstruction`` ``[slices, H, W]`` float32 (an
    ``[H, W]`` slice is one slice)."""
    import h5py

    array = np.asarray(volume, dtype=np.float32)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"a reconstruction is [slices, H, W], got shape {array.shape}")
    path = Path(path)
    with h5py.File(path, "w") as f:
        f.create_dataset("reconstruction", data=array)
    return path
