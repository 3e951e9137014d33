"""MRI forward models as operators: masked centred Fourier transforms (R-linear).

All map real input channels to complex k-space and keep the full k-space grid, with the
unsampled columns zeroed: y = M F x (single coil), y_c = M F S_c x (multi-coil with maps),
y_c = M F (x_{2c} + i x_{2c+1}) (multi-coil, two generator channels per coil). M is a 0/1
column mask, F the centred unitary FFT; the adjoint is Re(A^H y). A batch can hold ``count``
masks (one per independent draw), like the other registry operators.

Importing this module registers ``mri-single``, ``mri-multicoil`` and ``mri-multicoil-2ch``
in the shared operator registry (which itself imports no MRI code).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..operators.base import Operator
from ..operators.registry import OperatorSpec, register
from ..seeding import seed_list
from .coils import check_maps, simulated_maps
from .fft import fft2c, ifft2c
from .masks import cartesian_mask


def _complex_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.complex128 if x.dtype == torch.float64 else torch.complex64


def _to_complex(x: torch.Tensor) -> torch.Tensor:
    """``[B, 1, H, W]`` real → complex ``[B, H, W]``; ``[B, 2, H, W]`` (re, im) → complex."""
    if x.shape[1] == 1:
        return x[:, 0].to(_complex_dtype(x))
    return torch.complex(x[:, 0], x[:, 1])


def _from_complex(z: torch.Tensor, channels: int) -> torch.Tensor:
    """Inverse of :func:`_to_complex` as an adjoint: Re for 1 channel, (Re, Im) for 2."""
    if channels == 1:
        return z.real[:, None]
    return torch.stack([z.real, z.imag], dim=1)


class MaskedFourier(Operator):
    """Base: holds the column masks ``[count, W]`` and applies M F / F^H M."""

    complex_output = True
    mask: torch.Tensor

    def __init__(self, in_shape: Sequence[int], out_shape: Sequence[int], masks: torch.Tensor):
        if masks.dim() == 1:
            masks = masks[None]
        super().__init__(tuple(in_shape), tuple(out_shape), count=masks.shape[0])
        if masks.shape[1] != self.out_shape[-1]:
            raise ValueError(
                f"{self.name}: mask has {masks.shape[1]} columns but k-space is "
                f"[{', '.join(map(str, self.out_shape))}]"
            )
        if bool((masks.sum(dim=1) == 0).any()):
            raise ValueError(f"{self.name}: a mask samples no k-space line")
        self.register_buffer("mask", masks.float())

    def _mask(self, t: torch.Tensor) -> torch.Tensor:
        """The masks shaped to broadcast against ``t`` = ``[B, ..., H, W]``."""
        shape = (self.mask.shape[0],) + (1,) * (t.dim() - 2) + (self.mask.shape[1],)
        return self.mask.reshape(shape).to(t.real.dtype)

    def sample(self, images: torch.Tensor) -> torch.Tensor:
        """M F applied to complex images ``[B, ..., H, W]``."""
        k = fft2c(images)
        return k * self._mask(k)

    def unsample(self, y: torch.Tensor) -> torch.Tensor:
        """F^H M applied to k-space ``[B, ..., H, W]`` (the zero-filled images)."""
        return ifft2c(y * self._mask(y))


class SingleCoilMRI(MaskedFourier):
    """y = M F x for a real (1 channel) or complex (2 channels: re, im) image ``[C, H, W]``."""

    def __init__(self, in_shape: Sequence[int], masks: torch.Tensor) -> None:
        c, h, w = (int(s) for s in in_shape)
        if c not in (1, 2):
            raise ValueError(f"SingleCoilMRI input must be [1|2, H, W], got {list(in_shape)}")
        super().__init__((c, h, w), (h, w), masks)

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        return self.sample(_to_complex(x))

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        return _from_complex(self.unsample(y), self.in_shape[0])


class MultiCoilMRI(MaskedFourier):
    """y_c = M F (S_c x) with given sensitivity maps S ``[coils, H, W]`` (or ``[count, coils,
    H, W]``: each member its own maps, e.g. the slices of a volume); x is ``[1|2, H, W]``."""

    maps: torch.Tensor

    def __init__(self, in_shape: Sequence[int], maps: torch.Tensor, masks: torch.Tensor) -> None:
        c, h, w = (int(s) for s in in_shape)
        if c not in (1, 2):
            raise ValueError(f"MultiCoilMRI input must be [1|2, H, W], got {list(in_shape)}")
        per_member = maps.dim() == 4
        for m in maps if per_member else maps[None]:
            check_maps(m, m.shape[0] if m.dim() == 3 else -1, h, w)
        masks = masks[None] if masks.dim() == 1 else masks
        if per_member and masks.shape[0] == 1:
            masks = masks.expand(maps.shape[0], -1)
        if per_member and masks.shape[0] != maps.shape[0]:
            raise ValueError(f"{maps.shape[0]} members' maps but {masks.shape[0]} masks")
        super().__init__((c, h, w), (maps.shape[-3], h, w), masks)
        self.register_buffer("maps", maps.to(torch.complex64))

    def _maps(self, t: torch.Tensor) -> torch.Tensor:
        """The maps as ``[count or 1, coils, H, W]`` in ``t``'s complex dtype."""
        maps = self.maps if self.maps.dim() == 4 else self.maps[None]
        return maps.to(t.dtype if t.is_complex() else _complex_dtype(t))

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        z = _to_complex(x)
        return self.sample(self._maps(z) * z[:, None])

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        coil = self.unsample(y)
        return _from_complex((self._maps(coil).conj() * coil).sum(1), self.in_shape[0])


class MultiCoilTwoChannelMRI(MaskedFourier):
    """y_c = M F (x_{2c} + i x_{2c+1}): the generator outputs (re, im) of every coil image.

    This is the paper's multi-coil set-up (no sensitivity maps needed); the estimate is the
    root-sum-of-squares of the coil images (:meth:`combine`).
    """

    def __init__(self, in_shape: Sequence[int], masks: torch.Tensor) -> None:
        c, h, w = (int(s) for s in in_shape)
        if c < 2 or c % 2:
            raise ValueError(
                f"MultiCoilTwoChannelMRI input must be [2 * coils, H, W], got {list(in_shape)}"
            )
        super().__init__((c, h, w), (c // 2, h, w), masks)

    def coil_images(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, 2C, H, W]`` real → complex coil images ``[B, C, H, W]``."""
        return torch.complex(x[:, 0::2], x[:, 1::2])

    def combine(self, x: torch.Tensor) -> torch.Tensor:
        """Root-sum-of-squares magnitude ``[B, H, W]`` of the generator output ``[B, 2C, H, W]``."""
        return (x[:, 0::2].square() + x[:, 1::2].square()).sum(1).sqrt()

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        return self.sample(self.coil_images(x))

    def rmatvec(self, y: torch.Tensor) -> torch.Tensor:
        coil = self.unsample(y)
        b, c, h, w = coil.shape
        return torch.stack([coil.real, coil.imag], dim=2).reshape(b, 2 * c, h, w)


def registry_masks(width: int, ratio: float, seed: int | Sequence[int]) -> torch.Tensor:
    """Random masks ``[count, W]`` at acceleration 1/ratio, one per seed (registry builds)."""
    acc = 1.0 / ratio
    return torch.stack(
        [cartesian_mask(width, acc, 0.08, "random", s).columns for s in seed_list(seed)]
    )


def _build_multicoil(in_shape, ratio, seed, coils: int = 3) -> MultiCoilMRI:
    maps = simulated_maps(coils, in_shape[1], in_shape[2])
    return MultiCoilMRI(in_shape, maps, registry_masks(in_shape[2], ratio, seed))


register(
    OperatorSpec(
        "mri-single",
        lambda s, r, seed: SingleCoilMRI(s, registry_masks(s[2], r, seed)),
        (2, 6, 10),
        None,
        "single-coil MRI: centred FFT, random Cartesian column mask (acceleration 1/ratio)",
    )
)
register(
    OperatorSpec(
        "mri-multicoil",
        _build_multicoil,
        (1, 6, 10),
        None,
        "multi-coil MRI with simulated sensitivity maps, random Cartesian column mask",
    )
)
register(
    OperatorSpec(
        "mri-multicoil-2ch",
        lambda s, r, seed: MultiCoilTwoChannelMRI(s, registry_masks(s[2], r, seed)),
        (6, 6, 10),
        None,
        "multi-coil MRI, generator outputs (re, im) per coil (paper's set-up, RSS estimate)",
    )
)
