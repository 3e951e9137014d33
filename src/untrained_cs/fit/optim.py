"""Optimisers with one learning rate per independent member (leading dim of each parameter).

Members never interact: each parameter tensor's row b belongs to member b, and the step of
row b uses ``lr[b]``. A member with lr 0 is frozen. State can be snapshotted and restored
row-wise, which is how divergence is undone for the members that diverged only, and a
sub-batch of members can be split off (:meth:`MemberwiseOptimizer.select`) and written back
(:meth:`MemberwiseOptimizer.put`), which is how stopped members leave the computation.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch

from .compiled import adam_update


class MemberwiseOptimizer:
    """Base: parameters, per-member learning rates, snapshots of all state tensors."""

    def __init__(self, params: list[torch.Tensor], lr: torch.Tensor) -> None:
        self.params = params
        self.lr = lr
        #: steps through compiled code (:mod:`~untrained_cs.fit.compiled`) where there is any
        self.compiled = False
        #: steps taken per member [B] (a member that waited in a queue has taken fewer)
        self.steps = np.zeros(params[0].shape[0], dtype=np.int64)

    @property
    def lr(self) -> torch.Tensor:
        """Per-member learning rates ``[B]``; setting them prepares one broadcastable
        copy per parameter (in its dtype), so steps allocate nothing for them."""
        return self._lr

    @lr.setter
    def lr(self, value: torch.Tensor) -> None:
        self._lr = value.clone()
        self.lr_per_param = [
            value.reshape(-1, *[1] * (p.dim() - 1)).to(device=p.device, dtype=p.dtype)
            for p in self.params
        ]

    def state_tensors(self) -> list[torch.Tensor]:
        return list(self.params)

    @torch.no_grad()
    def snapshot(self) -> list[torch.Tensor]:
        return [t.detach().clone() for t in self.state_tensors()]

    @torch.no_grad()
    def restore(self, snap: list[torch.Tensor], members: torch.Tensor) -> None:
        """Copy the snapshot back into the rows of ``members`` (a bool mask [B])."""
        for t, s in zip(self.state_tensors(), snap, strict=True):
            mask = members.reshape(-1, *[1] * (t.dim() - 1))
            t.copy_(torch.where(mask, s, t))

    def member_state(self) -> list[torch.Tensor]:
        """The optimiser's own per-member tensors (beyond the parameters), rows = members."""
        return []

    def _set_member_state(self, tensors: list[torch.Tensor]) -> None:
        """Take ``tensors`` (laid out as :meth:`member_state`) as the own per-member state."""

    @torch.no_grad()
    def select(self, params: list[torch.Tensor], members: torch.Tensor) -> MemberwiseOptimizer:
        """An optimiser over ``params`` (a sub-batch's parameters) that continues the rows
        ``members`` (a long index [b]) of this one: their state, rates and step counts."""
        sub = copy.copy(self)
        sub.params = params
        sub._set_member_state([t.index_select(0, members) for t in self.member_state()])
        sub.lr = self.lr.index_select(0, members.to(self.lr.device))
        sub.steps = self.steps[members.cpu().numpy()]
        return sub

    @torch.no_grad()
    def put(self, members: torch.Tensor, sub: MemberwiseOptimizer) -> None:
        """Write the per-member state of ``sub`` (made by :meth:`select` with ``members``)
        back into those rows (parameters: the generator's)."""
        for dst, src in zip(self.member_state(), sub.member_state(), strict=True):
            dst.index_copy_(0, members, src)
        self.steps[members.cpu().numpy()] = sub.steps

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's own state (beyond parameters and lr) as CPU tensors and scalars."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (tensors are copied in place)."""

    def step(self, grads: list[torch.Tensor]) -> None:
        raise NotImplementedError


class GradientDescent(MemberwiseOptimizer):
    """Plain gradient descent: θ ← θ − η_b ∇L_b (the paper's algorithm)."""

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        self.steps += 1
        for p, g, lr in zip(self.params, grads, self.lr_per_param, strict=True):
            p.addcmul_(g, lr, value=-1.0)  # one pass; ``p.sub_(lr * g)`` makes two


class Adam(MemberwiseOptimizer):
    """Adam (Kingma & Ba) with bias correction and per-member learning rates."""

    def __init__(
        self, params: list[torch.Tensor], lr: torch.Tensor, betas=(0.9, 0.999), eps: float = 1e-8
    ) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    def state_tensors(self) -> list[torch.Tensor]:
        return [*self.params, *self.m, *self.v]

    def member_state(self) -> list[torch.Tensor]:
        return [*self.m, *self.v]

    def _set_member_state(self, tensors: list[torch.Tensor]) -> None:
        half = len(tensors) // 2
        self.m, self.v = tensors[:half], tensors[half:]

    def state_dict(self) -> dict[str, Any]:
        """Step counts, moments and constants: ``{"t", "m", "v", "betas", "eps"}`` (``t``
        one count when every member took the same number of steps, else one per member)."""
        same = bool((self.steps == self.steps[0]).all())
        return {
            "t": int(self.steps[0]) if same else [int(t) for t in self.steps],
            "m": [t.detach().cpu().clone() for t in self.m],
            "v": [t.detach().cpu().clone() for t in self.v],
            "betas": [self.beta1, self.beta2],
            "eps": self.eps,
        }

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the step count, moments and constants saved by :meth:`state_dict`."""
        for name in ("m", "v"):
            mine, saved = getattr(self, name), state[name]
            if len(mine) != len(saved):
                raise ValueError(
                    f"Adam state holds {len(saved)} {name} tensors, expected {len(mine)}"
                )
            for dst, src in zip(mine, saved, strict=True):
                dst.copy_(src)
        self.steps = np.broadcast_to(np.asarray(state["t"], dtype=np.int64),
                                     self.steps.shape).copy()  # fmt: skip
        self.beta1, self.beta2 = (float(b) for b in state["betas"])
        self.eps = float(state["eps"])

    @torch.no_grad()
    def step(self, grads: list[torch.Tensor]) -> None:
        self.steps += 1
        if self.compiled:  # one fused loop per parameter, the step count as a tensor
            both = np.stack([1.0 - self.beta1**self.steps,
                             np.sqrt(1.0 - self.beta2**self.steps)], 1)  # fmt: skip
            first = self.params[0]
            corrections = torch.as_tensor(both, dtype=first.dtype, device=first.device)
            adam_update(self.params, grads, self.m, self.v, self.lr_per_param, corrections,
                        (self.beta1, self.beta2), self.eps, compile=True)  # fmt: skip
            return
        torch._foreach_lerp_(self.m, grads, 1.0 - self.beta1)
        torch._foreach_mul_(self.v, self.beta2)
        torch._foreach_addcmul_(self.v, grads, grads, value=1.0 - self.beta2)
        denom = torch._foreach_sqrt(self.v)
        t = int(self.steps[0])
        if (self.steps == t).all():  # one step count: scalar bias corrections
            c1, c2 = 1.0 - self.beta1**t, 1.0 - self.beta2**t
            torch._foreach_div_(denom, c2**0.5)
            torch._foreach_add_(denom, self.eps)
            for p, m, d, lr in zip(self.params, self.m, denom, self.lr_per_param, strict=True):
                p.addcdiv_(m * lr, d, value=-1.0 / c1)
            return
        # per member (members that waited in a queue): one [B, 2] tensor per step
        both = np.stack([1.0 - self.beta1**self.steps, np.sqrt(1.0 - self.beta2**self.steps)], 1)
        first = self.params[0]
        corrections = torch.as_tensor(both, dtype=first.dtype, device=first.device)
        for p, m, d, lr in zip(self.params, self.m, denom, self.lr_per_param, strict=True):
            bias, root = corrections.reshape(-1, 2, *[1] * (p.dim() - 1)).unbind(1)
            d.div_(root).add_(self.eps)
            p.addcdiv_(m * (lr / bias), d, value=-1.0)


OPTIMIZERS = {"adam": Adam, "gd": GradientDescent}
