"""The one registry: the reproducible experiments by name, in the paper's order, and the
`untrained-cs theory` tools they offer (each tool is a view of one experiment)."""

from __future__ import annotations

import importlib
from typing import Any

from .experiment import Experiment, Tool

#: name → (its module in :mod:`untrained_cs.experiments`, which defines ``EXPERIMENT``; the
#: name of the `untrained-cs theory` tool it offers, or None)
EXPERIMENTS: dict[str, tuple[str, str | None]] = {
    "fig1": ("figure1", None),
    "fig2": ("figure2", "basis"),
    "fig3": ("figure3", "weights"),
    "fig4": ("figure4", "jacobian"),
    "fig5": ("figure5", None),
    "thm1": ("theorem1", "linear"),
    "thm2": ("theorem2", "two-layer"),
    "thm4": ("theorem4", None),
    "phase": ("phase", None),
}
NAMES = tuple(EXPERIMENTS)
#: `untrained-cs theory` tool → the experiment that offers it
TOOLS = {tool: name for name, (_, tool) in EXPERIMENTS.items() if tool is not None}


def experiment(name: str) -> Experiment[Any]:
    """The experiment ``name`` (``ValueError`` naming the choices)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(NAMES)}, all")
    module, tool_name = EXPERIMENTS[name]
    found = importlib.import_module(f"{__package__}.{module}").EXPERIMENT
    if not isinstance(found, Experiment) or (found.tool is None) != (tool_name is None):
        raise TypeError(f"{module}.EXPERIMENT does not match the registry's entry {name!r}")
    return found


def tool(name: str) -> Tool[Any]:
    """The `untrained-cs theory` tool ``name`` (``ValueError`` naming the choices)."""
    if name not in TOOLS:
        raise ValueError(f"unknown theory tool {name!r}; choose from {', '.join(TOOLS)}")
    found = experiment(TOOLS[name]).tool
    assert found is not None  # experiment() checked it against the registry
    return found


def expand(names: list[str]) -> list[str]:
    """``all`` → every experiment; otherwise the names, checked, duplicates dropped."""
    out: list[str] = []
    for name in names:
        for n in NAMES if name == "all" else [name]:
            experiment(n)
            if n not in out:
                out.append(n)
    return out
