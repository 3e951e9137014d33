"""Building blocks shared by the generators, all batched over independent members.

Each function takes activations ``[B, k, *spatial]`` and member-wise weights with a leading
B, so B independent networks run as one batched computation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def channel_norm(
    x: torch.Tensor,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    r"""Normalise each channel over space: (x - mean) / \sqrt{var + eps}, then affine.

    Computed from the current activations only (no running statistics); equal to batch
    norm in training mode with one image. ``weight``/``bias`` are ``[B, k]`` (default 1, 0).
    The B members' k channels are folded into one image of B·k channels for the native
    batch-norm kernel: its statistics are then exactly per member and channel. That kernel
    (forward, backward, forward-mode and vmap rules included) measured faster on CPU than
    the formula written out with a hand-derived backward, see bench/RESULTS.md.
    """
    b, k = x.shape[:2]
    flat = x.reshape(1, b * k, *x.shape[2:])
    w = weight.reshape(b * k) if weight is not None else None
    bb = bias.reshape(b * k) if bias is not None else None
    out = F.batch_norm(flat, None, None, w, bb, training=True, momentum=0.0, eps=eps)
    return out.reshape(x.shape)


def mix_channels(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """1x1 convolution as a batched matmul: ``weight`` [B, k_out, k_in] on [B, k_in, *sp]."""
    b, k_in = x.shape[:2]
    spatial = x.shape[2:]
    out = torch.bmm(weight, x.reshape(b, k_in, -1))
    return out.reshape(b, weight.shape[1], *spatial)


def combine_channels(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The fixed output combination Σ_c v_c x_c of ``[B, k, *spatial]`` → ``[B, 1, *spatial]``.

    A vector-matrix product per member: measured faster on CPU (forward and backward) than
    the equivalent einsum, see bench/RESULTS.md.
    """
    b, k = x.shape[:2]
    return torch.matmul(v, x.reshape(b, k, -1)).reshape(b, 1, *x.shape[2:])


def conv(x: torch.Tensor, weight: torch.Tensor, stride: int = 1, pad_mode: str = "reflect"):
    """k x k convolution with member-wise weights [B, k_out, k_in, *kernel] (grouped conv)."""
    b, k_in = x.shape[:2]
    k_out = weight.shape[1]
    ksize = weight.shape[3:]
    pad = []
    for s in reversed(ksize):
        pad += [(s - 1) // 2, s // 2]
    if any(pad):
        x = F.pad(x, pad, mode=pad_mode)
    flat_w = weight.reshape(b * k_out, k_in, *ksize)
    flat_x = x.reshape(1, b * k_in, *x.shape[2:])
    convnd = F.conv2d if len(ksize) == 2 else F.conv1d
    out = convnd(flat_x, flat_w, stride=stride, groups=b)
    return out.reshape(b, k_out, *out.shape[2:])


def upsample(x: torch.Tensor, size: tuple[int, ...], mode: str) -> torch.Tensor:
    """Resize ``[B, k, *spatial]`` to ``size`` (bilinear/linear/nearest, align_corners=False)."""
    if tuple(x.shape[2:]) == tuple(size):
        return x
    if mode in ("bilinear", "linear"):
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[len(size)]
        return F.interpolate(x, size=size, mode=mode, align_corners=False)
    return F.interpolate(x, size=size, mode=mode)


def interpolation_matrix(n_in: int, n_out: int, mode: str) -> torch.Tensor:
    """The ``[n_out, n_in]`` matrix of 1D resizing as :func:`upsample` does it per axis."""
    eye = torch.eye(n_in, dtype=torch.float64).reshape(n_in, 1, n_in)
    mode = "linear" if mode in ("bilinear", "linear") else mode
    kw = {"align_corners": False} if mode == "linear" else {}
    return F.interpolate(eye, size=n_out, mode=mode, **kw).reshape(n_in, n_out).T.float()


def resize_separable(x: torch.Tensor, transposed: list[torch.Tensor]) -> torch.Tensor:
    """Resize ``[B, k, *spatial]`` by one matrix product per axis (``M^T`` given per axis).

    Same values as :func:`upsample` with the matrices of :func:`interpolation_matrix`; on CPU
    at 16² and above its backward measured faster than the native interpolation's, see
    bench/RESULTS.md.
    """
    if len(transposed) == 1:
        return x @ transposed[0]
    if len(transposed) == 2:
        mh_t, mw_t = transposed
        return (x.transpose(-1, -2) @ mh_t).transpose(-1, -2) @ mw_t
    for axis, m_t in enumerate(transposed):  # volumes: one axis at a time
        dim = x.dim() - len(transposed) + axis
        x = (x.movedim(dim, -1) @ m_t).movedim(-1, dim)
    return x


def double_axis(x: torch.Tensor, dim: int, mode: str) -> torch.Tensor:
    """Resize axis ``dim`` of ``x`` to twice its length as :func:`upsample` does (linear with
    align_corners=False, or nearest), written as a two-tap stencil of slices.

    out[2i] = ¾x[i] + ¼x[i−1] and out[2i+1] = ¾x[i] + ¼x[i+1], the ends repeated; nearest
    repeats each entry. Only elementwise work, so a compiler fuses it (forward and backward)
    with the ReLU and the norm around it, where the matrices of :func:`resize_separable`
    and native interpolation each need their own passes.
    """
    n = x.shape[dim]
    shape = list(x.shape)
    shape[dim] = 2 * n
    if mode == "nearest":
        return torch.stack([x, x], dim + 1).reshape(shape)
    before = torch.cat([x.narrow(dim, 0, 1), x.narrow(dim, 0, n - 1)], dim)
    after = torch.cat([x.narrow(dim, 1, n - 1), x.narrow(dim, n - 1, 1)], dim)
    return torch.stack([0.75 * x + 0.25 * before, 0.75 * x + 0.25 * after], dim + 1).reshape(shape)


def _spectral_multiply(x: torch.Tensor, kernel_fft: torch.Tensor) -> torch.Tensor:
    dims = tuple(range(2, x.dim()))
    spectrum = torch.fft.rfftn(x, dim=dims)
    return torch.fft.irfftn(spectrum.mul_(kernel_fft), s=x.shape[2:], dim=dims)


class _CircularConvolution(torch.autograd.Function):
    """x ↦ u ⊛ x for a fixed real kernel u, with the adjoint written out.

    The map is linear, so its VJP is the correlation with u (the spectrum's conjugate)
    and its JVP is the map itself: the backward costs one more convolution. Autograd
    through ``rfftn``/``irfftn`` builds full-length complex FFTs with padding instead;
    forward + backward measured faster on CPU, see bench/RESULTS.md.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: torch.Tensor, kernel_fft: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return _spectral_multiply(x, kernel_fft)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:  # type: ignore[no-untyped-def, override]
        ctx.save_for_backward(inputs[1])
        ctx.save_for_forward(inputs[1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[no-untyped-def, override]
        (kernel_fft,) = ctx.saved_tensors
        return circular_convolve(grad, kernel_fft.conj()), None

    @staticmethod
    def jvp(ctx, x_tangent: torch.Tensor, _kernel_tangent: None):  # type: ignore[no-untyped-def, override]
        (kernel_fft,) = ctx.saved_tensors
        return circular_convolve(x_tangent, kernel_fft)


# From this many elements the written-out adjoint beats autograd's FFT backward on CPU
# (measured faster, see bench/RESULTS.md; below it the Python-level Function's own
# overhead loses).
ADJOINT_CONVOLVE_MIN = 1 << 17


def circular_convolve(x: torch.Tensor, kernel_fft: torch.Tensor) -> torch.Tensor:
    """Circular convolution over the spatial dims of ``[B, k, *spatial]`` with a fixed real
    kernel given by its real FFT (``rfftn`` of the kernel; not differentiated)."""
    if x.numel() >= ADJOINT_CONVOLVE_MIN:
        return _CircularConvolution.apply(x, kernel_fft.detach())
    return _spectral_multiply(x, kernel_fft.detach())


def uniform_bound(fan_in: int) -> float:
    """PyTorch's default conv init bound 1/sqrt(fan_in) (kaiming-uniform with a = sqrt 5)."""
    return 1.0 / math.sqrt(fan_in)
