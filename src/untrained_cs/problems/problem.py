"""``build(spec)`` and the typed interface a built problem offers the pipeline.

Every random draw takes its seed from :func:`~untrained_cs.problems.seeds.derive_seed`
(operator, noise, MRI mask, smooth-signal coefficients), and noise is added by the one
noise model (:mod:`untrained_cs.operators.noise`).

A :class:`Problem` answers what a fit or a solver needs to know about it (signed outputs,
the output scale, the map to the scored space, hold-out candidates, the zero-filled
estimate, the solvers' weight grid), so no caller switches on the kind of problem. This
package builds the compressive-sensing problems (:class:`CSProblem`); a package that owns
another kind registers its builder for its signal type (:func:`register_builder`): the MRI
problems of :mod:`untrained_cs.mri` do, so this package imports no MRI code.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..io.images import load_image
from ..operators import Operator, make_operator
from ..operators.noise import add_noise
from ..operators.registry import parse_operator
from .seeds import derive_seed
from .specs import CSMeasurement, ImageSignal, ProblemSpec, SmoothSignal


@dataclass
class Problem(ABC):
    """A built problem: what the methods fit and what their estimates are scored against.

    Attributes:
        spec: what it was built from.
        truth: the ground truth in the space estimates are scored in: an image
            ``[C, H, W]``, a signal ``[1, n]``, or an MRI magnitude ``[h, w]``; None for
            measured data that come without one (records then hold no PSNR/SSIM).
        operator: A (input shape = what a generator outputs); y: ``[1, *out_shape]``.
        noise_std: the std of the noise in y (0 when noiseless).
        data_range: the peak used by PSNR (1 for images in [0, 1]).
        scale: the generator's output multiplier (:meth:`output_scale`): 1 for outputs in
            [0, 1]; for signed signals the rms the data imply (:func:`rms_estimate`), so
            that a generator starts at the data's scale, not above it.
    """

    spec: ProblemSpec
    truth: torch.Tensor | None
    operator: Operator
    y: torch.Tensor
    noise_std: float = 0.0
    data_range: float = 1.0
    scale: float = 1.0

    @property
    def kind(self) -> str:
        """``image``, ``smooth``, ``mri`` or ``volume``: the key of the fit defaults that apply."""
        return self.spec.signal.kind

    @property
    def known_truth(self) -> torch.Tensor:
        """The truth, for code that needs one (simulated problems always have it)."""
        if self.truth is None:
            raise ValueError("this problem has no ground truth (measured data without one)")
        return self.truth

    @property
    def n(self) -> int:
        return self.operator.n

    @property
    def m(self) -> int:
        return self.operator.m

    @property
    @abstractmethod
    def signed_output(self) -> bool:
        """Whether a generator must reach negative values (no sigmoid on its output)."""

    @property
    @abstractmethod
    def fit_truth(self) -> torch.Tensor | None:
        """The truth the fit engine compares generator outputs with directly, or None when
        outputs are scored in the truth's space through :meth:`to_image` and
        :attr:`data_range` instead."""

    def output_scale(self) -> float:
        """The generator's output multiplier (1: outputs at the scale of the truth)."""
        return self.scale

    def to_image(self, out: torch.Tensor) -> torch.Tensor:
        """Generator outputs ``[B, *operator.in_shape]`` → estimates ``[B, *truth.shape]``."""
        return out

    def holdout_candidates(self) -> torch.Tensor | None:
        """The entries of y a hold-out rule may keep out of the fit (None: every measured
        entry)."""
        return None

    def zero_filled(self) -> torch.Tensor | None:
        """The problem's own zero-filled estimate ``[*truth.shape]`` on the CPU, or None
        when it is the plain Aᵀ y in the truth's space (which the caller computes where its
        operator runs)."""
        return None

    @property
    def baseline_grid(self) -> Mapping[str, Sequence[float]] | None:
        """The classical solvers' relative weight grids (None: the solvers' own)."""
        return None

    @property
    def baseline_options(self) -> Mapping[str, Mapping[str, Any]]:
        """Per classical solver, keyword settings for this problem: colour images couple
        their channels in TV (one norm per pixel over R, G, B)."""
        shape = self.operator.in_shape
        colour = isinstance(self.spec.signal, ImageSignal) and shape[0] > 1
        return {"tv": {"couple_channels": True}} if colour else {}

    def facts(self) -> dict[str, Any]:
        """What the problem turned out to be beyond its spec (for metrics.json)."""
        return {}

    def stack(
        self, problems: Sequence[Problem], ensemble: int = 1
    ) -> tuple[Operator, torch.Tensor] | None:
        """One operator and measurements ``[B, ...]`` fitting ``problems`` (this one among
        them, each ``ensemble`` times in a row) as one batch, or None when this kind has no
        stacking of its own (the pipeline then stacks dense matrices)."""
        return None


@dataclass
class CSProblem(Problem):
    """y = A x* + noise for an image ``[C, H, W]`` in [0, 1] (compared by the engine
    itself) or a p-smooth signal ``[1, n]`` (unit norm, both signs: a signed generator,
    scored against its own peak)."""

    @property
    def signed_output(self) -> bool:
        return not isinstance(self.spec.signal, ImageSignal)

    @property
    def fit_truth(self) -> torch.Tensor | None:
        return self.truth if isinstance(self.spec.signal, ImageSignal) else None


Builder = Callable[[ProblemSpec], Problem]
#: builders of the signal types other packages own, by signal type (see module docstring)
BUILDERS: dict[type, Builder] = {}


def register_builder(signal: type, builder: Builder) -> None:
    """Let :func:`build` build specs whose signal is a ``signal`` with ``builder``."""
    BUILDERS[signal] = builder


def build(spec: ProblemSpec) -> Problem:
    """The problem ``spec`` describes (see module docstring)."""
    builder = BUILDERS.get(type(spec.signal))
    if builder is not None:
        return builder(spec)
    if not isinstance(spec.measurement, CSMeasurement):
        raise ValueError(f"no builder of {spec.signal.kind} problems is registered")
    truth = signal_tensor(spec)
    return measure(spec, truth, spec.measurement)


def signal_tensor(spec: ProblemSpec) -> torch.Tensor:
    """The ground-truth signal of a CS spec: ``[C, H, W]`` image or ``[1, n]`` signal."""
    signal = spec.signal
    if isinstance(signal, ImageSignal):
        return load_image(signal.image, signal.size, signal.channels)
    assert isinstance(signal, SmoothSignal)
    from ..theory.basis import smooth_signal

    x = smooth_signal(signal.n, signal.p, seed=derive_seed(spec.seed, "signal"))
    return x.float()[None]


def measure(spec: ProblemSpec, truth: torch.Tensor, meas: CSMeasurement) -> CSProblem:
    """Measure ``truth`` with the registered operator of ``meas`` and add its noise."""
    n = truth.numel()
    ratio = meas.ratio if meas.ratio is not None else (meas.m or n) / n
    if meas.m is not None and meas.m > n:
        raise ValueError(f"m must be <= n = {n}, got {meas.m}")
    name, options = parse_operator(meas.operator)
    seed = derive_seed(spec.seed, "operator")
    op = make_operator(name, tuple(truth.shape), ratio, seed, options)
    with torch.no_grad():
        y = op(truth.unsqueeze(0))
    y = add_noise(y, meas.noise_std, derive_seed(spec.seed, "noise"))
    image = isinstance(spec.signal, ImageSignal)
    data_range = 1.0 if image else float(truth.abs().max())
    # a signed signal's generator starts at the data's scale: a deep decoder's random first
    # output at scale 1 (16x a unit signal's rms at n = 256) leaves in A's null space a
    # part the fit never removes, so recovery never set in (bench/RESULTS.md, phase)
    scale = 1.0 if image else rms_estimate(op, y)
    return CSProblem(spec, truth, op, y, meas.noise_std, data_range, scale)


#: random probes of ||A||_F² in :func:`rms_estimate`
SCALE_PROBES = 8


def rms_estimate(operator: Operator, y: torch.Tensor) -> float:
    """rms(x) ≈ ||y|| / ||A||_F (exact in expectation for a signal with isotropic
    entries), ||A||_F² from Hutchinson probes E||A z||² with z ~ N(0, I): the output scale
    of a signed generator, so it starts at the data's scale without the truth."""
    g = torch.Generator().manual_seed(0)
    z = torch.randn(SCALE_PROBES, *operator.in_shape, generator=g)
    with torch.no_grad():
        frob2 = float(operator(z.to(y.device)).abs().pow(2).sum()) / SCALE_PROBES
    return float(y.abs().pow(2).sum().sqrt()) / max(frob2, 1e-30) ** 0.5
