"""The reproducible experiments by name, in the paper's order, for ``untrained-cs reproduce``."""

from __future__ import annotations

import importlib
from types import ModuleType

#: name → module of :mod:`untrained_cs.experiments` (each follows :mod:`.claims`' interface)
EXPERIMENTS = {
    "fig1": "figure1",
    "fig2": "figure2",
    "fig3": "figure3",
    "fig4": "figure4",
    "fig5": "figure5",
    "thm1": "theorem1",
    "thm2": "theorem2",
    "phase": "phase",
}
NAMES = tuple(EXPERIMENTS)


def experiment(name: str) -> ModuleType:
    """The module of experiment ``name`` (``ValueError`` naming the choices)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(NAMES)}, all")
    return importlib.import_module(f"{__package__}.{EXPERIMENTS[name]}")


def expand(names: list[str]) -> list[str]:
    """``all`` → every experiment; otherwise the names, checked, duplicates dropped."""
    out: list[str] = []
    for name in names:
        for n in NAMES if name == "all" else [name]:
            experiment(n)
            if n not in out:
                out.append(n)
    return out
