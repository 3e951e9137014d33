"""Command-line flags generated from a settings dataclass (one flag per field).

Each field declared with :func:`~untrained_cs.experiments.experiment.setting` becomes the
flag ``--name-with-dashes`` (or its declared ``flag``), whose destination is the field's
name, whose type, bounds and choices come from the annotation and the metadata, whose
default is the field's default, and whose help is the field's help and source. A sequence
takes one or more values (none when it may be empty); a bool is a switch.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

from .arguments import integer, number

Field = dataclasses.Field


def flag_of(field: Field) -> str:
    """The field's flag: its declared ``flag``, else ``--`` and the name with dashes."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def setting_fields(settings_type: type) -> list[Field]:
    """The fields of a settings dataclass declared with ``setting`` (those with help)."""
    return [f for f in dataclasses.fields(settings_type) if "help" in f.metadata]


def add_settings_arguments(
    p: Any,
    settings_type: type,
    fields: list[Field] | None = None,
    dest: Callable[[Field], str] | None = None,
    unset: bool = False,
    prefix: str = "",
) -> None:
    """Add one flag per field of ``settings_type`` (or per field of ``fields``).

    Args:
        p: the parser (or argument group).
        settings_type: the settings dataclass.
        fields: only these of its fields (default: all declared with ``setting``).
        dest: the argparse destination of a field (default: its name).
        unset: default None (= keep the settings' own value) instead of the field's default.
        prefix: put before each help text (e.g. the experiment's name).
    """
    hints = typing.get_type_hints(settings_type)
    for f in setting_fields(settings_type) if fields is None else fields:
        kind, many = _base_type(hints[f.name])
        meta = f.metadata
        kw: dict[str, Any] = {"dest": f.name if dest is None else dest(f)}
        default = None if unset else f.default
        source = f"; {meta['source']}" if meta["source"] else ""
        help_text = f"{prefix}{meta['help']}{source}".replace("%", "%%")
        if kind is bool:
            if f.default is not False or many:
                raise TypeError(f"{f.name}: a switch must default to False")
            p.add_argument(flag_of(f), action="store_true", help=help_text, **kw)
            continue
        if meta["choices"] is not None:
            kw["choices"] = list(meta["choices"])
        else:
            kw["type"] = _parse(kind, meta)
            kw["metavar"] = flag_of(f).lstrip("-").replace("-", "_").upper()
        if many:
            kw["nargs"] = "*" if meta["empty"] else "+"
            default = list(default) if isinstance(default, tuple) else default
        p.add_argument(flag_of(f), default=default, help=f"{help_text} (default %(default)s)",
                       **kw)  # fmt: skip


def settings_from_args(settings_type: type, args: argparse.Namespace) -> Any:
    """The settings object of the parsed flags (lists become tuples; checked by the class)."""
    values = vars(args)
    return settings_type(**{f.name: _value(values[f.name]) for f in setting_fields(settings_type)})


def changes_from_args(
    fields: list[Field], args: argparse.Namespace, dest: Callable[[Field], str]
) -> dict[str, Any]:
    """The given (not None) values of ``fields`` in the parsed flags, by field name."""
    values = vars(args)
    return {f.name: _value(values[dest(f)]) for f in fields if values[dest(f)] is not None}


def _value(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _base_type(hint: Any) -> tuple[type, bool]:
    """(element type, is a sequence) of an annotation: X, X | None, tuple[X, ...]."""
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"settings flags support X | None, not {hint}")
        return _base_type(rest[0])
    if typing.get_origin(hint) is tuple:
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"settings flags support tuple[X, ...], not {hint}")
        return _base_type(args[0])[0], True
    if hint not in (int, float, str, bool):
        raise TypeError(f"settings flags support int, float, str and bool, not {hint}")
    return hint, False


def _parse(kind: type, meta: Mapping[str, Any]) -> Callable[[str], Any]:
    """The argparse type of one value: bounded integers and finite numbers, or text."""
    if kind is int:
        low, high = meta["low"], meta["high"]
        return integer(
            None if low is None else int(low) + (1 if meta["open_low"] else 0),
            None if high is None else int(high),
        )
    if kind is float:
        return number(meta["low"], meta["high"], open_low=meta["open_low"])
    return str
