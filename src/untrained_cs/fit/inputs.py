"""What the fit engine checks and places before it starts: shapes, device, the modules' copies."""

from __future__ import annotations

import copy
from typing import TypeVar

import torch

from ..generators.base import Generator
from ..operators.base import Operator

ModuleT = TypeVar("ModuleT", bound=torch.nn.Module)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; ``"cuda"`` without CUDA is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was requested but CUDA is not available here")
    return dev


def squared_norms(r: torch.Tensor) -> torch.Tensor:
    """||r_b||² per member of a real or complex batch."""
    sq = r.real.square() + r.imag.square() if r.is_complex() else r.square()
    return sq.reshape(r.shape[0], -1).sum(dim=1)


def on_device(module: ModuleT, device: torch.device) -> ModuleT:
    """``module`` itself when all its tensors are on ``device``, else a moved deep copy.

    Args:
        module: any ``nn.Module`` (an operator); it is never modified.
        device: where the fit runs.

    Returns:
        a module whose parameters and buffers live on ``device``.
    """
    tensors = [*module.parameters(), *module.buffers()]
    if all(_same_device(t.device, device) for t in tensors):
        return module
    return copy.deepcopy(module).to(device)


def _same_device(a: torch.device, b: torch.device) -> bool:
    if a.type != b.type:
        return False
    if a.type != "cuda":
        return True
    current = torch.cuda.current_device()
    return (a.index if a.index is not None else current) == (
        b.index if b.index is not None else current
    )


def check_inputs(
    generator: Generator, operator: Operator, y: torch.Tensor, truth: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Validate the problem's shapes; return ``y`` and ``truth`` with a leading batch dim.

    Args:
        generator: the generator (its ``out_shape`` and ``batch`` are read).
        operator: the operator (its ``in_shape``/``out_shape`` are read).
        y: ``[B, *out_shape]``, ``[1, *out_shape]`` or ``[*out_shape]`` measurements.
        truth: optional ``[B, *signal]``, ``[1, *signal]`` or ``[*signal]`` ground truth.

    Returns:
        ``(y [B, *out_shape], truth [B or 1, *signal] or None)``.

    Raises:
        ValueError: on mismatched shapes or non-finite measurements.
    """
    gen_shape = tuple(generator.out_shape)
    if gen_shape != tuple(operator.in_shape):
        raise ValueError(
            f"{type(operator).__name__} expects signals of shape {list(operator.in_shape)}, "
            f"but {type(generator).__name__} produces {list(gen_shape)}"
        )
    batch = generator.batch
    if tuple(y.shape) == tuple(operator.out_shape):
        y = y.unsqueeze(0)
    operator.check_output(y)
    if y.shape[0] == 1 and batch > 1:
        y = y.expand(batch, *y.shape[1:])
    if y.shape[0] != batch:
        raise ValueError(f"y holds {y.shape[0]} problems but the generator has {batch} members")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("measurements y contain NaN or inf")
    if truth is not None:
        if tuple(truth.shape) == gen_shape:
            truth = truth.unsqueeze(0)
        if tuple(truth.shape[1:]) != gen_shape or truth.shape[0] not in (1, batch):
            raise ValueError(
                f"truth must have shape [B, {', '.join(map(str, gen_shape))}], "
                f"got {list(truth.shape)}"
            )
    return y, truth
