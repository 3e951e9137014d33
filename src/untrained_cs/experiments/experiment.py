"""The typed interface of an experiment, and of the `untrained-cs theory` tool it may offer.

An experiment's settings are one frozen dataclass. Each field is declared with
:func:`setting`: its type (the annotation), its default, one line of help and its source
(the paper's words, or that it is this project's choice), and optionally the bounds and
choices its values must keep. The command line builds its flags from these fields
(:mod:`untrained_cs.cli.flags`), so a setting is written in one place. Checks that involve
several fields belong in the dataclass's ``__post_init__`` (raising ``ValueError``), so no
settings object is ever invalid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from .claims import SCALES, Claim, Cost

S = TypeVar("S")
T = TypeVar("T")
Data = dict[str, Any]

#: the source of a value the paper does not give
PROJECT = "this project's choice"


def setting(
    default: T,
    help: str,
    source: str = PROJECT,
    *,
    flag: str | None = None,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    choices: Sequence[str] | None = None,
    empty: bool = False,
    reproduce: bool = False,
) -> T:
    """A settings field: its default, its help and its source, and what values it accepts.

    Args:
        default: the value (tuples for sequences; ``None`` for "not given").
        help: what the setting is, in one line.
        source: where the value comes from (the paper's words, or :data:`PROJECT`; "" for
            an input such as a file name, which has none).
        flag: the command-line flag when it is not ``--`` + the name with dashes.
        low, high, open_low: numbers (or each element) must lie in [low, high] (``(low,
            high]`` with ``open_low``).
        choices: the allowed strings.
        empty: a sequence may be empty (else it needs one value at least).
        reproduce: ``untrained-cs reproduce`` offers a flag for it (overriding every scale).

    Returns:
        A ``dataclasses.field`` carrying all of it (typed as the default for the dataclass).
    """
    meta = {"help": help, "source": source, "flag": flag, "low": low, "high": high,
            "open_low": open_low, "choices": tuple(choices) if choices else None,
            "empty": empty, "reproduce": reproduce}  # fmt: skip
    return dataclasses.field(default=default, metadata=meta)


def take_text_values(settings: Any, text: Mapping[str, Any], code: Mapping[str, Any]) -> None:
    """With ``settings.setting == "text"``, put the paper text's value into every field
    whose value is still the authors' code's (a scale that set its own value keeps it);
    call it from ``__post_init__`` before :func:`check_fields`."""
    if getattr(settings, "setting", "code") != "text":
        return
    for name, value in text.items():
        if getattr(settings, name) == code[name]:
            object.__setattr__(settings, name, value)


def check_fields(settings: Any) -> None:
    """``ValueError`` naming the first field of a settings dataclass outside its bounds or
    choices (as :func:`setting` declared them); call it from ``__post_init__``."""
    for f in dataclasses.fields(settings):
        value, meta = getattr(settings, f.name), f.metadata
        if value is None or "help" not in meta:
            continue
        values = value if isinstance(value, tuple) else (value,)
        if isinstance(value, tuple) and not value and not meta["empty"]:
            raise ValueError(f"{f.name} needs at least one value")
        for v in values:
            _check_value(f.name, v, meta)


def _check_value(name: str, v: Any, meta: Mapping[str, Any]) -> None:
    if meta["choices"] is not None and v not in meta["choices"]:
        raise ValueError(f"{name} must be one of {', '.join(meta['choices'])}, got {v!r}")
    low, high = meta["low"], meta["high"]
    if low is not None and (v < low or (meta["open_low"] and v == low)):
        raise ValueError(f"{name} must be {'>' if meta['open_low'] else '>='} {low:g}, got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be <= {high:g}, got {v}")


@dataclass(frozen=True)
class Tool(Generic[S]):
    """What `untrained-cs theory NAME` runs: the numbers behind one figure or theorem curve.

    Attributes:
        help: one line for the tool list.
        settings_type: the settings dataclass (its defaults are the tool's defaults; its
            fields are the tool's flags).
        data: ``data(settings, seed)`` → the numbers (JSON safe), written as metrics.json.
        plot: ``plot(path, data)`` draws the tool's one picture.
        summary: ``summary(settings, data)`` → the one line printed.
        memory: ``memory(settings)`` → the largest things it will hold, in bytes, by name.
    """

    help: str
    settings_type: type[S]
    data: Callable[[S, int], Data]
    plot: Callable[[Path, Data], None]
    summary: Callable[[S, Data], str]
    memory: Callable[[S], dict[str, int]]


@dataclass(frozen=True)
class Experiment(Generic[S]):
    """One paper figure or theorem (or the phase transition), as `reproduce` runs it.

    Attributes:
        title: the report's heading.
        settings_type: the settings dataclass.
        scales: its settings at each of :data:`~.claims.SCALES` (smoke, cpu, paper).
        data: ``data(settings, seed)`` → the numbers behind the figure (JSON safe).
        plot: ``plot(data, folder)`` → the files it drew there.
        claims: ``claims(data)`` → the paper's statements checked against the numbers.
        cost: ``cost(settings)`` → the expected time and memory from a timed probe; None
            for the experiments that take seconds at every scale.
        tool: the `untrained-cs theory` tool it offers, if any (its name is the registry's).
    """

    title: str
    settings_type: type[S]
    scales: Mapping[str, S]
    data: Callable[[S, int], Data]
    plot: Callable[[Data, Path], list[str]]
    claims: Callable[[Data], list[Claim]]
    cost: Callable[[S], Cost] | None = None
    tool: Tool[Any] | None = None

    def __post_init__(self) -> None:
        if tuple(self.scales) != SCALES:
            raise ValueError(f"{self.title}: scales must be {SCALES}, got {tuple(self.scales)}")
        for scale, value in self.scales.items():
            if not isinstance(value, self.settings_type):
                raise ValueError(f"{self.title}: the {scale} settings are not a "
                                 f"{self.settings_type.__name__}")  # fmt: skip

    def settings(self, scale: str, changes: Mapping[str, Any] | None = None) -> S:
        """The settings at ``scale`` with ``changes`` (checked by the dataclass)."""
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
        base = self.scales[scale]
        return dataclasses.replace(base, **changes) if changes else base  # type: ignore[type-var]
