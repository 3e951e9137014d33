"""Users' data in and results out: images (bundled or files), arrays (npy/npz/HDF5/mat),
volumes (NIfTI), estimates.

Readers check everything before any work (numeric, finite, one array or a ``key``, never a
pickle) and fail with one line naming the file; writers keep float32 numbers in the
signal's own layout.
"""

from .arrays import content_hash, read_array
from .images import BUNDLED, load_image
from .volumes import BUNDLED_VOLUME, load_volume, read_nifti, write_nifti
from .writers import FORMATS, check_formats, write_estimate

__all__ = [
    "BUNDLED",
    "BUNDLED_VOLUME",
    "FORMATS",
    "check_formats",
    "content_hash",
    "load_image",
    "load_volume",
    "read_array",
    "read_nifti",
    "write_estimate",
    "write_nifti",
]
