"""Images as tensors: bundled test images by name, or files (PNG/JPEG/TIFF/NPY) by path.

Every image comes out grayscale (or RGB on request), centre-cropped to the target aspect,
resized, and scaled to [0, 1], as a float32 tensor ``[C, H, W]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

#: scikit-image's bundled images (no download needed).
BUNDLED = (
    "camera",
    "grass",
    "brick",
    "gravel",
    "moon",
    "coins",
    "shepp_logan_phantom",
    "astronaut",
    "text",
    "checkerboard",
    "horse",
    "page",
    "clock",
    "chelsea",
    "coffee",
)
ALIASES = {
    "cameraman": "camera",
    "shepp_logan": "shepp_logan_phantom",
    "phantom": "shepp_logan_phantom",
}
FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".npy", ".bmp")


def _read(source: str) -> np.ndarray:
    name = ALIASES.get(source, source)
    if name in BUNDLED:
        import skimage.data

        return np.asarray(getattr(skimage.data, name)())
    path = Path(source)
    if not path.exists():
        raise ValueError(
            f"image {source!r}: no such file, and not a bundled image ({', '.join(BUNDLED[:7])}, …)"
        )
    if path.suffix.lower() not in FILE_SUFFIXES:
        raise ValueError(
            f"image {source!r}: unsupported file type (use {', '.join(FILE_SUFFIXES)})"
        )
    try:
        if path.suffix.lower() == ".npy":
            a = np.load(path, allow_pickle=False)
        else:
            import skimage.io

            a = np.asarray(skimage.io.imread(path))
    except Exception as exc:  # unreadable content: say so in one line, without hints
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        if "backend" in reason or "plugin" in reason:
            reason = f"not a readable {path.suffix} image"
        raise ValueError(f"image {source!r} could not be read: {reason}") from None
    if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
        raise ValueError(f"image {source!r} holds {a.dtype} values, not real numbers")
    bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
    if bad:
        raise ValueError(f"image {source!r} has {bad} NaN or infinite pixel(s)")
    return a


def to_unit_range(a: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]: integer images by their dtype's range, floats by min/max."""
    if np.issubdtype(a.dtype, np.integer):
        return a.astype(np.float64) / float(np.iinfo(a.dtype).max)
    a = a.astype(np.float64)
    lo, hi = float(a.min()), float(a.max())
    if lo >= 0.0 and hi <= 1.0:
        return a
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _channels(a: np.ndarray, channels: int | None, source: str) -> np.ndarray:
    """To ``[H, W, C]`` with C = 1 (luminance) or 3; None keeps the file's own (RGBA → RGB)."""
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim == 3 and a.shape[2] not in (1, 3, 4) and a.shape[0] in (1, 3, 4):
        a = np.moveaxis(a, 0, 2)  # channel-first (C, H, W) → channel-last
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4) or min(a.shape[:2]) < 2:
        raise ValueError(
            f"image {source!r} has shape {a.shape}; expected (H, W), (H, W, C) or (C, H, W) "
            "with C = 1, 3 or 4"
        )
    if a.shape[2] == 4:
        a = a[..., :3]
    if channels == 1 and a.shape[2] == 3:
        a = (a @ np.array([0.2125, 0.7154, 0.0721]))[..., None]
    elif channels == 3 and a.shape[2] == 1:
        a = np.repeat(a, 3, axis=2)
    return a


def center_crop(a: np.ndarray, aspect: float) -> np.ndarray:
    """Largest centred crop of ``[H, W, ...]`` with width / height = aspect."""
    h, w = a.shape[:2]
    if w / h > aspect:
        new_w = max(1, round(h * aspect))
        left = (w - new_w) // 2
        return a[:, left : left + new_w]
    new_h = max(1, round(w / aspect))
    top = (h - new_h) // 2
    return a[top : top + new_h]


def image_shape(source: str) -> tuple[int, int]:
    """The height and width of a bundled image or an image file, as stored."""
    a = _channels(_read(source), None, source)
    return int(a.shape[0]), int(a.shape[1])


def keep_aspect(shape: tuple[int, int], shorter: int) -> tuple[int, int]:
    """The size ``(H, W)`` of an image of ``shape`` resized so that its shorter side is
    ``shorter`` and its aspect ratio stays (the longer side rounded)."""
    h, w = shape
    if h <= w:
        return shorter, max(shorter, round(shorter * w / h))
    return max(shorter, round(shorter * h / w)), shorter


def load_image(
    source: str, size: int | tuple[int, int] | None = 64, channels: int | None = 1
) -> torch.Tensor:
    """Load a bundled image by name or a file by path, as ``[C, H, W]`` float32 in [0, 1].

    Args:
        source: a bundled name (``camera``, ``grass``, ``brick``, ``moon``, …) or a path.
        size: N for N x N, ``(H, W)``, or None to keep the original size.
        channels: 1 (grayscale), 3 (RGB) or None (the file's own: grey stays grey, colour
            stays RGB, an alpha channel is dropped).
    """
    from skimage.transform import resize

    if channels not in (1, 3, None):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    a = _channels(to_unit_range(_read(source)), channels, source)
    if size is not None:
        h, w = (size, size) if isinstance(size, int) else size
        if h < 1 or w < 1:
            raise ValueError(f"image size must be positive, got {h}x{w}")
        a = center_crop(a, w / h)
        a = resize(a, (h, w, a.shape[2]), anti_aliasing=True, order=3)
    a = np.clip(a, 0.0, 1.0)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1))).float()
