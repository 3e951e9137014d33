"""Figure 4: the Jacobian spectrum of a 1D four-layer deep decoder across iterations.

``reproduce fig4`` is the paper's own setting, as its published notebook runs it: the
network :class:`~untrained_cs.generators.Figure4Decoder` fitted by Adam to a noisy step
(:mod:`.figure4_notebook`; ``--setting text``: by the caption's gradient descent, see
:mod:`.figure4_settings`), with, at each snapshot, both the true Jacobian with respect to
the channel mixings and the matrix the notebook actually computes (its Jacobian loop never
zeroes gradients, so its rows are running sums of the Jacobian's rows plus the last loss
gradient). Every measure is reported for both, side by side. Its `untrained-cs theory
jacobian` tool is the compressive-sensing variant of :mod:`.figure4_cs`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ..generators.figure4_decoder import Figure4Decoder
from ..problems.seeds import derive_seed
from ..theory.jacobian import Params, summation_matrix
from ..theory.spectrum import (
    DECAY_FLOOR,
    decay_profile,
    largest_principal_angle,
    relative_change,
)
from ..theory.trig_alignment import left_singular, spectrum_report
from .claims import Claim, Cost, check, settings_dict
from .experiment import Experiment
from .figure4_cs import TOOL
from .figure4_notebook import Snapshot, noisy_step, notebook_fit, notebook_matrix, true_jacobian
from .figure4_settings import SETTINGS, Figure4Settings

TITLE = "Figure 4: the Jacobian spectrum of a four-layer deep decoder across iterations"

#: the two matrices measured at every snapshot: the true Jacobian and the notebook's
MATRICES = ("true", "running_sum")
LABELS = {"true": "true Jacobian", "running_sum": "notebook's running-sum matrix"}
#: the runs: Adam with one optimiser throughout, or a fresh one per snapshot (the notebook);
#: plain gradient descent (the caption) holds no state, so it has one run
OPTIMISERS = {"continuous": "Adam continuous",
              "restarted": "Adam restarted per snapshot (the notebook)",
              "gd": "plain gradient descent (the caption)"}  # fmt: skip
#: this project's thresholds: "changes only slightly" = top-`top` relative change at most
SLIGHT_CHANGE = 0.25
#: the top-k left singular subspaces compared between successive snapshots
SUBSPACES = (5, 10, 20)
#: "change only little": the largest principal angle between successive snapshots at most
LITTLE_ANGLE = 30.0
#: "decays quickly" = σ below decay_level·σ_1 within the first n·QUICK_SHARE indices
QUICK_SHARE = 1 / 8
#: "close to trigonometric functions" = mean cos² at least this at every r and snapshot
CLOSE = 0.75


def _measure(s: Figure4Settings) -> Snapshot:
    """The snapshot callback: both matrices at the current θ, each through spectrum_report."""

    def measure(t: int, net: Figure4Decoder, grad: Params) -> dict[str, Any]:
        mats = {"true": true_jacobian(net), "running_sum": notebook_matrix(net, grad)}
        most = min(max(SUBSPACES), s.n)
        return {
            key: {
                **spectrum_report(m, s.top, s.ranks, s.low_columns, s.keep, s.decay_level),
                # the leading left singular vectors, for the angles between snapshots (dropped
                # from the data once those are measured)
                "basis": left_singular(m, most)[1].numpy(),
            }
            for key, m in mats.items()
        }

    return measure


def data(settings: Figure4Settings, seed: int = 0) -> dict[str, Any]:
    """Fit the notebook's network to a noisy step (by Adam, or by plain gradient descent with
    ``optimizer`` gd); measure both matrices per snapshot.

    The network and the noise take their seeds from ``seed`` by
    :func:`~untrained_cs.problems.derive_seed` (purposes ``generator`` and ``noise``).

    Returns:
        ``settings``, ``n``, ``parameters`` (d·k², the Jacobian's columns), ``iterations``
        (the snapshots), ``matrices`` (per key of :data:`MATRICES`, one
        :func:`~untrained_cs.theory.trig_alignment.spectrum_report` per snapshot, with its
        ``iteration``), ``change_top`` (per matrix: relative change of the top ``top``
        singular values, first vs last snapshot), ``change_shape`` (the same after dividing
        each spectrum by its σ_1), ``summation_reference`` (the report of the bare running
        sum :func:`~untrained_cs.theory.jacobian.summation_matrix`: no network),
        ``loss`` (every step) and ``noise_energy`` (mean squared noise: the loss of fitting
        the clean step exactly).
    """
    s = settings
    clean, y = noisy_step(s.n, s.noise, s.noise_std, derive_seed(seed, "noise"))
    continuous = _run(s, seed, y, restart=False)
    # a restarted gradient descent is the same run: only Adam has a second one
    restarted = {"restarted": _run(s, seed, y, restart=True)} if s.optimizer == "adam" else {}
    reference = spectrum_report(
        summation_matrix(s.n), s.top, s.ranks, s.low_columns, s.keep, s.decay_level
    )
    return {
        "settings": settings_dict(s), "seed": seed, "n": s.n,
        "parameters": s.layers * s.channels**2, **continuous,
        **restarted, "summation_reference": reference, "setting": s.setting,
        "noise_energy": float(((y - clean) ** 2).mean()),
    }  # fmt: skip


def _run(s: Figure4Settings, seed: int, y: Any, restart: bool) -> dict[str, Any]:
    """One fit from the seed's network and its measures: ``optimiser`` (a key of
    :data:`OPTIMISERS`), ``iterations``, ``matrices``, ``change_top``, ``change_shape``,
    ``subspace_angles`` and ``loss``."""
    net = Figure4Decoder(s.n, s.channels, s.layers, seed=derive_seed(seed, "generator"))
    losses, found = notebook_fit(net, y, s.iterations, s.lr, s.snapshots, _measure(s), restart,
                                 s.optimizer)  # fmt: skip
    its = sorted(found)
    mats = {key: [{"iteration": t, **found[t][key]} for t in its] for key in MATRICES}
    for snaps in mats.values():
        for snap in snaps:
            snap["decay_fit"] = decay_profile(snap["spectrum"])
    angles = {key: _subspace_angles(snaps) for key, snaps in mats.items()}
    change = {
        key: relative_change(snaps[0]["sigma"], snaps[-1]["sigma"], s.top)
        for key, snaps in mats.items()
    }
    shape = {key: _shape_change(snaps, s.top) for key, snaps in mats.items()}
    return {
        "optimiser": "gd" if s.optimizer == "gd" else "restarted" if restart else "continuous",
        "iterations": its,
        "matrices": mats, "change_top": change, "change_shape": shape,
        "subspace_angles": angles, "loss": losses,
    }  # fmt: skip


def _subspace_angles(snaps: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per k of :data:`SUBSPACES` (<= n): the largest principal angle (degrees) between the
    top-k left singular subspaces of successive snapshots; removes each snapshot's basis."""
    bases = [snap.pop("basis") for snap in snaps]
    n = bases[0].shape[0]
    pairs = list(zip(bases, bases[1:], strict=False))
    return {
        str(k): [largest_principal_angle(a[:, :k], b[:, :k]) for a, b in pairs]
        for k in SUBSPACES
        if k <= n
    }  # fmt: skip


def _shape_change(snaps: list[dict[str, Any]], top: int) -> float:
    """:func:`relative_change` of the top spectra after dividing each by its σ_1."""
    first, last = (np.asarray(snaps[i]["sigma"]) / snaps[i]["sigma"][0] for i in (0, -1))
    return relative_change(first.tolist(), last.tolist(), top)


def plot(data: dict[str, Any], folder: Path) -> list[str]:
    """Figure 4's pictures (spectra, leading vectors, alignment and loss) in ``folder``."""
    from ..plots.figure4 import draw

    return draw(data, Path(folder), OPTIMISERS)


def _worst(data: dict[str, Any], key: str, field: str, fn: Any) -> Any:
    return fn(np.asarray([snap[field] for snap in data["matrices"][key]]), axis=0)


def _its(data: dict[str, Any]) -> str:
    return ", ".join(str(t) for t in data["iterations"])


def _reference(data: dict[str, Any], key: str, field: str) -> str:
    """For the running-sum matrix: what the bare running sum (no network) scores."""
    if key != "running_sum":
        return ""
    ref = data["summation_reference"][field]
    value = "/".join(f"{a:.2f}" for a in ref) if isinstance(ref, list) else str(ref)
    return f"; the bare running sum (no network): {value}"


def _label(data: dict[str, Any], key: str) -> str:
    """The matrix and the run a row is about."""
    return f"{LABELS[key]}; {OPTIMISERS[data.get('optimiser', 'continuous')]}"


def _change_claim(data: dict[str, Any], key: str) -> Claim:
    top = data["settings"]["top"]
    change = data["change_top"][key]
    first, last = (data["matrices"][key][i]["sigma"][0] for i in (0, -1))
    return check(
        f"Figure 4: 'the spectrum changes only slightly' across iterations [{_label(data, key)}]",
        round(change, 3),
        change <= SLIGHT_CHANGE,
        f"‖σ_1:{top}(t={data['iterations'][0]}) − σ_1:{top}(t={data['iterations'][-1]})‖ / "
        f"‖σ_1:{top}(t={data['iterations'][0]})‖ (≤ {SLIGHT_CHANGE} counts as slight); "
        f"σ_1 {first:.3g} → {last:.3g}; after dividing by σ_1: {data['change_shape'][key]:.3f}",
    )


def _decay_claim(data: dict[str, Any], key: str) -> Claim:
    s, n = data["settings"], data["n"]
    slowest = int(_worst(data, key, "decay_index", np.max))
    bound = n * QUICK_SHARE
    ref = _reference(data, key, "decay_index")
    return check(
        f"Figure 4: 'the singular values decay slightly faster than geometrically' "
        f"(Section 4.1: 'at least geometrically') [{_label(data, key)}]",
        slowest,
        slowest <= bound,
        f"first i with σ_i < {s['decay_level']:g}·σ_1, slowest of iterations {_its(data)}, "
        f"of n = {n} (quick: ≤ n/{round(1 / QUICK_SHARE)} = {bound:g}){ref}",
    )


#: "faster than geometric": the quadratic term of log σ_i² is negative, at least this many
#: standard errors from 0, and bends the fit by at least CURVED_DECADES over the range
CURVATURE_T = 3.0
CURVED_DECADES = 0.1


def _faster_claim(data: dict[str, Any], key: str) -> Claim:
    """ "Slightly faster than geometric" over the whole decaying range: log σ_i² against
    i + i² (:func:`~untrained_cs.theory.spectrum.decay_profile`), at every snapshot."""
    fits = [(snap["iteration"], snap["decay_fit"]) for snap in data["matrices"][key]]
    ok = [
        f["curvature"] < 0 and f["curvature_t"] <= -CURVATURE_T
        and f["curvature_decades"] >= CURVED_DECADES
        for _, f in fits
    ]  # fmt: skip
    weakest = max(f["curvature_t"] for _, f in fits)
    detail = "; ".join(
        f"t={t}: {f['count']} values over {f['decades']:.1f} decades, geometric γ = "
        f"{f['rate']:.4f} (R² {f['r2_geometric']:.3f}), c = {f['curvature']:.2e} "
        f"(c/se = {f['curvature_t']:.1f}; {f['curvature_decades']:.2f} decades of bend)"
        for t, f in fits
    )
    return check(
        f"Figure 4: the singular values decay 'slightly faster than geometrically', over "
        f"the whole range that decays [{_label(data, key)}]",
        round(weakest, 2),
        all(ok),
        f"log σ_i² = a + b i + c i² fitted from i = 1 to the last σ_i² above "
        f"{DECAY_FLOOR:g}·σ_1²; faster: c < 0 with c/se <= −{CURVATURE_T:g} and a bend of >= "
        f"{CURVED_DECADES:g} decade at every snapshot (measured: the largest c/se); {detail}",
    )


def _vector_claim(data: dict[str, Any], key: str) -> Claim:
    """The leading left singular subspaces at successive snapshots: largest principal angle."""
    angles = data["subspace_angles"][key]
    worst = {k: max(v, default=0.0) for k, v in angles.items()}
    largest = max(worst.values(), default=float("nan"))
    per_k = "/".join(f"{worst[k]:.1f}" for k in angles)
    return check(
        f"Section 4.1 (after [HS20]): the leading singular vectors of a four-layer deep "
        f"decoder 'change only little across iterations' [{_label(data, key)}]",
        f"k={'/'.join(angles)}: {per_k}°",
        largest <= LITTLE_ANGLE,
        f"largest principal angle between the top-k left singular subspaces of successive "
        f"snapshots (iterations {_its(data)}), in degrees; little: <= {LITTLE_ANGLE:g}° "
        "(an odd k may split a cos/sin pair of equal singular values, which alone can turn "
        "the subspace by up to 90°)",
    )


def _trig_claim(data: dict[str, Any], key: str) -> Claim:
    s, snaps = data["settings"], data["matrices"][key]
    ranks = snaps[0]["ranks"]
    worst = _worst(data, key, "alignment", np.min)
    share = float(np.mean([np.mean(snap["low_frequency_share"]) for snap in snaps]))
    leak = max(snap["constant_leak"] for snap in snaps)
    measured = "/".join(f"{a:.2f}" for a in worst)
    ref = _reference(data, key, "alignment")
    return check(
        f"Section 4.1 (after [HS20]): the leading singular vectors of a four-layer deep "
        f"decoder are 'close to the trigonometric basis functions' [{_label(data, key)}]",
        f"r={'/'.join(map(str, ranks))}: {measured}",
        bool(worst.min() >= CLOSE),
        f"mean cos² of principal angles to the r lowest trig functions, worst of iterations "
        f"{_its(data)} (close: ≥ {CLOSE}; random ≈ r/n); {share:.0%} of their energy in the "
        f"{s['low_columns']} lowest; ‖Mᵀ1‖/(√n σ_1) ≤ {leak:.1e}{ref}",
    )


def claims(data: dict[str, Any]) -> list[Claim]:
    """The paper's Figure-4 statements, each checked on the true Jacobian and on the matrix
    the published notebook computes: spectrum change, decay, trigonometric singular vectors."""
    rows = []
    # the continuous run's measures are the data's own; the restarted run's are nested
    views = [data] + ([{**data, **data["restarted"]}] if "restarted" in data else [])
    for view in views:
        rows += [_change_claim(view, key) for key in MATRICES]
        rows += [_decay_claim(view, key) for key in MATRICES]
        rows += [_faster_claim(view, key) for key in MATRICES]
        rows += [_trig_claim(view, key) for key in MATRICES]
        rows += [_vector_claim(view, key) for key in MATRICES]
    return rows


def cost(settings: Figure4Settings) -> Cost:
    """Time a probe of the real workload at these sizes and scale it to the whole run.

    The probe takes 20 steps and one full snapshot (both matrices and their spectra); each
    run (Adam: continuous and restarted per snapshot; gradient descent: one) is
    ``iterations`` steps plus one snapshot per entry of ``snapshots``.
    """
    s = settings
    net = Figure4Decoder(s.n, s.channels, s.layers, seed=derive_seed(0, "generator"))
    _, y = noisy_step(s.n, s.noise, s.noise_std, derive_seed(0, "noise"))
    probe_steps = min(20, s.iterations)
    start = time.perf_counter()
    notebook_fit(net, y, probe_steps, s.lr, (), _measure(s), optimizer=s.optimizer)
    per_step = (time.perf_counter() - start) / probe_steps
    start = time.perf_counter()
    grad = {k: p.detach() * 0 for k, p in net.named_parameters() if k in net.mixing_names()}
    for m in (true_jacobian(net), notebook_matrix(net, grad)):
        left_singular(m, s.keep)
    per_snapshot = time.perf_counter() - start
    runs = 2 if s.optimizer == "adam" else 1  # Adam: continuous and restarted per snapshot
    seconds = runs * (per_step * s.iterations + per_snapshot * len(s.snapshots))
    n, p = s.n, net.mixing_count()
    # two float32 n x P matrices, one float64 copy, a vmapped chunk of 128 rows (grads and
    # their concatenation), the n x n Gram and its eigenvectors in float64
    peak = 2 * n * p * 4 + n * p * 8 + 2 * min(128, n) * p * 4 + 3 * n * n * 8
    return Cost(
        seconds=float(seconds), bytes=int(peak),
        basis="timed 20 steps and one snapshot at these sizes, scaled by the steps and "
        "snapshots; bytes: the dense matrices, one chunk and the Gram (estimate)",
    )  # fmt: skip


EXPERIMENT = Experiment(TITLE, Figure4Settings, SETTINGS, data, plot, claims, cost, TOOL)
