"""Sweep pictures from the results table: error against m, and the phase diagram over m × p."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _m(row: dict[str, Any]) -> float | None:
    m = row.get("measurement_m")
    return float(m) if m is not None else None


def _natural(label: str) -> list[Any]:
    """Sort key of a legend label with numbers in it (p=4 before p=16)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", label)]


def error_against_m(path: Path, rows: list[dict[str, Any]], metric: str = "rel_error") -> int:
    """One line per (signal, generator) of ``metric`` against m, mean ± std over seeds.

    Returns:
        the number of lines drawn.
    """
    groups: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.get("status") != "done" or _m(r) is None or r.get(metric) is None:
            continue
        signal = (
            f"p={int(r['signal_p'])}"
            if r.get("signal_p") is not None
            else r.get("signal_image", "?")
        )
        m = _m(r)
        assert m is not None
        groups[f"{signal}, {r.get('method_generator')}"][m].append(float(r[metric]))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, by_m in sorted(groups.items(), key=lambda item: _natural(item[0])):
        ms = np.array(sorted(by_m))
        mean = np.array([np.mean(by_m[m]) for m in ms])
        std = np.array([np.std(by_m[m]) for m in ms])
        ax.errorbar(ms, mean, yerr=std, marker="o", ms=3, capsize=2, label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("measurements m")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return len(groups)


def phase_diagram(path: Path, rows: list[dict[str, Any]], threshold: float = 0.1) -> bool:
    """Success probability (relative error below ``threshold``) over m × p, with m = c·p lines.

    Returns:
        whether there was a p axis to draw (False: nothing written).
    """
    cells: dict[tuple[float, float], list[bool]] = defaultdict(list)
    for r in rows:
        m = _m(r)
        if r.get("status") == "done" and r.get("signal_p") is not None and m is not None:
            cells[(float(r["signal_p"]), m)].append(float(r["rel_error"]) < threshold)
    ps = sorted({p for p, _ in cells})
    ms = sorted({m for _, m in cells})
    if len(ps) < 2 or len(ms) < 2:
        return False
    grid = np.full((len(ps), len(ms)), np.nan)
    for (p, m), ok in cells.items():
        grid[ps.index(p), ms.index(m)] = np.mean(ok)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    im = ax.imshow(grid, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(ms)), [f"{m:g}" for m in ms])
    ax.set_yticks(range(len(ps)), [f"{p:g}" for p in ps])
    for c in (1, 2, 4):  # m = c·p, in grid coordinates
        xs = [np.interp(np.log2(c * p), np.log2(ms), range(len(ms))) for p in ps]
        ax.plot(xs, range(len(ps)), "w--", lw=0.8)
        ax.annotate(f"m={c}p", (xs[-1], len(ps) - 1), color="w", fontsize=7)
    ax.set_xlabel("measurements m")
    ax.set_ylabel("smoothness p")
    fig.colorbar(im, label=f"P(relative error < {threshold:g})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
