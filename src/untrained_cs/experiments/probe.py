"""Timed probes behind each experiment's :class:`~untrained_cs.experiments.claims.Cost`.

A probe runs a few steps of the real workload at its real size on this machine and scales
them by the iteration count: the generator's forward and backward pass (members batched),
and the dense operator's two products timed on a slice of its rows, scaled by m. Nothing of
full size is drawn for the operator, and images larger than :data:`PROBE_SIZE` are timed at
that size and scaled by the pixel count (the convolutions' cost is linear in it), so probing
the paper's scale on a laptop takes seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import torch

from ..generators.factory import make_generator
from ..methods import GeneratorFit
from ..operators.base import Operator
from ..operators.registry import rows_for_ratio
from ..problems import CSMeasurement, ImageSignal, ProblemSpec, SmoothSignal
from ..resources import generator_bytes, operator_bytes

#: timed generator steps (after one untimed warm-up step)
STEPS = 3
#: rows of the dense operator timed (the product's cost is linear in the rows)
ROWS = 256
#: images are probed at most this size per side
PROBE_SIZE = 64


def step_seconds(generator: torch.nn.Module, steps: int = STEPS) -> float:
    """Seconds of one Adam step of ``generator`` on a stand-in loss (forward and backward)."""
    opt = torch.optim.Adam(generator.parameters(), lr=1e-3)
    times = []
    for i in range(steps + 1):
        start = time.perf_counter()
        opt.zero_grad()
        generator().square().mean().backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - start)
    return min(times)


def fit_step_seconds(
    generator: torch.nn.Module, op: Operator, y: torch.Tensor, steps: int = STEPS
) -> tuple[float, float]:
    """(seconds of one Adam step of ½‖A G − y‖², seconds of one A and one Aᵀ), each the
    fastest of ``steps`` after one warm-up, on the device of ``y`` (synchronised on CUDA)."""
    opt = torch.optim.Adam(generator.parameters(), lr=1e-3)
    cuda = y.device.type == "cuda"
    sync = (lambda: torch.cuda.synchronize(y.device)) if cuda else (lambda: None)
    times, applies = [], []
    for i in range(steps + 1):
        start = time.perf_counter()
        opt.zero_grad()
        out = generator()
        loss = 0.5 * (op(out) - y).abs().square().sum()
        loss.backward()
        opt.step()
        sync()
        mid = time.perf_counter()
        with torch.no_grad():
            op.adjoint(op(out.detach()))
        sync()
        if i:  # the first step warms up
            times.append(mid - start)
            applies.append(time.perf_counter() - mid)
    return min(times), min(applies)


def dense_seconds(n: int, m: int, members: int, rows: int = ROWS) -> float:
    """Seconds of A x and Aᵀ r for ``members`` dense m × n Gaussians, timed on ``rows`` rows."""
    r = min(rows, m)
    a = torch.randn(members, r, n)
    x = torch.randn(members, n, 1)
    start = time.perf_counter()
    for _ in range(STEPS):
        y = a @ x
        a.transpose(1, 2) @ y
    return (time.perf_counter() - start) / STEPS * m / r


def probe_fit(spec: ProblemSpec, method: GeneratorFit, members: int = 1) -> tuple[float, int]:
    """(expected seconds, peak bytes) of fitting ``members`` problems like ``spec``."""
    method = method.resolved(spec.signal.kind, spec.noisy)
    shape = _signal_shape(spec)
    n = math.prod(shape)
    probed = _probe_shape(shape)
    gen = make_generator(method.generator, probed, method.channels, method.layers,
                         seed=list(range(members)))  # fmt: skip
    per_step = step_seconds(gen) * n / math.prod(probed)
    meas = spec.measurement
    if not isinstance(meas, CSMeasurement):
        raise ValueError("probe_fit measures compressive-sensing problems")
    m = meas.m if meas.m is not None else rows_for_ratio((n,), meas.ratio or 0.0)
    dense = meas.operator.startswith("gaussian")
    if dense:
        per_step += dense_seconds(n, m, members)
    name = meas.operator if dense else "structured"
    peak = generator_bytes(method.generator, n, method.channels or 0, method.layers or 0, members)
    peak += members * operator_bytes(name, n, m)
    return per_step * (method.max_iters or 1), int(peak)


def probe_fits(fits: Iterable[tuple[ProblemSpec, GeneratorFit, int]]) -> tuple[float, int]:
    """(summed seconds, largest peak bytes) of :func:`probe_fit` over (spec, method, members)."""
    seconds, peak = 0.0, 0
    for spec, method, members in fits:
        s, b = probe_fit(spec, method, members)
        seconds, peak = seconds + s, max(peak, b)
    return seconds, peak


def _signal_shape(spec: ProblemSpec) -> tuple[int, ...]:
    s = spec.signal
    if isinstance(s, ImageSignal):
        h, w = s.size if isinstance(s.size, tuple) else (s.size, s.size)
        return (s.channels or 1, h, w)
    if isinstance(s, SmoothSignal):
        return (1, s.n)
    raise ValueError(f"probe_fit measures image and smooth problems, not {s.kind}")


def _probe_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(shape) == 3 and shape[-1] > PROBE_SIZE:
        return (shape[0], PROBE_SIZE, PROBE_SIZE)
    return shape
