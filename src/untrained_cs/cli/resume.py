"""`untrained-cs resume DIR.partial`: continue an interrupted run from its saved state.

The run folder's ``resume.json`` holds the command and its options; the fit continues from
``checkpoint.pt`` with the thread count it started with (so that, on the CPU, the finished
folder holds the same numbers as a run that was never interrupted).

Both files are checked before anything is built: ``resume.json`` against its schema (its
format, :data:`~untrained_cs.runfolder.RESUME_FORMAT`; unknown or missing fields and options
named; every option through the command's own parser; the options must still describe
the problem and method the run saved), then ``checkpoint.pt`` is loaded and checked
(:func:`~untrained_cs.fit.checkpoint.read`). A refusal is one line, exit 2, and
leaves the folder as it is.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..runfolder import CHECKPOINT, PARTIAL_SUFFIX, RESUME, RESUME_FORMAT
from ..version import NewerFormat, check_format
from .common import UsageError

#: the fields of resume.json, and those it may lack
FIELDS = ("command", "options", "problem", "method")
OPTIONAL_FIELDS = ("format", "version", "threads")
#: options a resume.json of an earlier version may lack (the command's defaults apply)
LATER_OPTIONS = ("recipe", "schedule", "save", "grey", "ensemble", "measurements", "matrix",
                 "shape", "truth", "key", "operator_seed", "signed", "crop", "slices",
                 "compile")  # fmt: skip
#: later options whose absence means an earlier behaviour, not today's default: runs from
#: before --crop cropped --size N to N x N
EARLIER_BEHAVIOUR = {"crop": True}
#: recorded beside the parser's options (set while the command runs)
EXTRA_OPTIONS = ("command", "baseline_names")
#: the commands whose runs can be continued
RESUMABLE = ("reconstruct", "mri", "volume")
#: parser options that are not recorded (where and how the output goes)
UNRECORDED = ("help", "out", "overwrite", "quiet", "json")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("resume", help="continue an interrupted run (DIR.partial)")
    p.add_argument("partial", type=Path, help="the interrupted run's DIR.partial folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(run=run)


def load_resume(partial: Path) -> dict[str, Any]:
    """The saved command and options of an interrupted run, checked against the schema
    (UsageError, one line, when there is none or it does not pass)."""
    if not partial.name.endswith(PARTIAL_SUFFIX) or not partial.is_dir():
        raise UsageError(f"{partial} is not an interrupted run folder (NAME{PARTIAL_SUFFIX})")
    if not (partial / CHECKPOINT).is_file() or not (partial / RESUME).is_file():
        raise UsageError(f"{partial} holds no saved fit state ({CHECKPOINT}, {RESUME})")
    path = partial / RESUME
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} cannot be read: {exc}") from None
    check_fields(saved, path)
    return saved


def check_fields(saved: Any, path: Path) -> None:
    """The top level of resume.json: its format first, then its fields and their kinds
    (a ValueError, one line: :class:`~untrained_cs.version.NewerFormat` for a newer file)."""
    if not isinstance(saved, dict):
        raise UsageError(f"{path}: expected a JSON object with {', '.join(FIELDS)}")
    # a newer format first: its fields may well be unknown here
    check_format(path, "resume", saved.get("format", 1), RESUME_FORMAT, saved.get("version"))
    unknown = sorted(set(saved) - {*FIELDS, *OPTIONAL_FIELDS})
    missing = [f for f in FIELDS if f not in saved]
    if unknown or missing:
        raise UsageError(f"{path} does not match the resume.json schema (format "
                         f"{RESUME_FORMAT}): " + _named(unknown, missing, "field"))  # fmt: skip
    if saved["command"] not in RESUMABLE:
        raise UsageError(f"{path}: cannot resume a {saved['command']!r} run")
    for name in ("options", "problem", "method"):
        if not isinstance(saved[name], dict):
            raise UsageError(f"{path}: {name} must be a JSON object")
    threads = saved.get("threads")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):  # fmt: skip
        raise UsageError(f"{path}: threads must be an integer >= 1, got {threads!r}")


def command_options(module: Any, saved: dict[str, Any], path: Path) -> argparse.Namespace:
    """The saved options, each checked and converted by the command's own parser."""
    sub = argparse.ArgumentParser().add_subparsers()
    module.add_parser(sub)
    (command_parser,) = sub.choices.values()
    actions = {a.dest: a for a in command_parser._actions if a.dest not in UNRECORDED}
    options = saved["options"]
    unknown = sorted(set(options) - set(actions) - set(EXTRA_OPTIONS))
    missing = [d for d in actions if d not in options and d not in LATER_OPTIONS]
    if unknown or missing:
        raise UsageError(f"{path}: " + _named(unknown, missing, "option"))
    values = {d: _option(a, options[d], path) for d, a in actions.items() if d in options}
    later = {d: EARLIER_BEHAVIOUR.get(d, a.default) for d, a in actions.items() if d not in options}
    return argparse.Namespace(**{**options, **later, **values})


def _option(action: argparse.Action, value: Any, path: Path) -> Any:
    """One saved option as the command line would have parsed it (UsageError naming it)."""
    name = f"{path}: option {action.dest}"
    if value is None:
        if action.default is not None:
            raise UsageError(f"{name} must not be null")
        return None
    if action.nargs == 0:  # a flag (store_true): a boolean
        if not isinstance(value, bool):
            raise UsageError(f"{name}: expected true or false, got {value!r}")
        return value
    if action.choices is not None and value not in action.choices:
        raise UsageError(f"{name}: {value!r} is not one of {', '.join(map(str, action.choices))}")
    if action.type is None:
        if not isinstance(value, str):
            raise UsageError(f"{name}: expected text, got {value!r}")
        return value
    if isinstance(value, list) and value and all(type(v) is int for v in value):
        value = "x".join(map(str, value))  # a size or shape, recorded as a list: HxW
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise UsageError(f"{name}: expected a value, got {value!r}")
    try:
        return action.type(str(value))  # type: ignore[operator]
    except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
        raise UsageError(f"{name}: {exc}") from None


def check_specs(module: Any, ns: argparse.Namespace, saved: dict[str, Any], path: Path) -> None:
    """The options must rebuild the problem and method the run saved (an edited option
    would continue the fit on another problem)."""
    from ..methods import method_from_dict
    from ..problems import ProblemSpec
    from .solve import method_spec

    try:
        pairs = [("problem", ProblemSpec.from_dict(saved["problem"]), module.problem_spec(ns)),
                 ("method", method_from_dict(saved["method"]), method_spec(ns))]  # fmt: skip
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    for name, was, now in pairs:
        if was != now:
            field = _first_difference(was.to_dict(), now.to_dict())
            raise UsageError(
                f"{path}: the options no longer describe the saved {name} ({field}); "
                "resume.json was edited: restore it, or start the run again"
            )


def _first_difference(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> str:
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            inner = _first_difference(x, y, f"{prefix}{key}.")
            if inner:
                return inner
        elif x != y:
            return f"{prefix}{key}: {x!r} saved, {y!r} in the options"
    return ""


def _named(unknown: list[str], missing: list[str], what: str) -> str:
    parts = [f"unknown {what}(s) {', '.join(unknown)}"] if unknown else []
    parts += [f"missing {what}(s) {', '.join(missing)}"] if missing else []
    return "; ".join(parts)


def check_checkpoint(partial: Path) -> None:
    """Load and check ``checkpoint.pt`` before anything is built (UsageError, one line)."""
    from ..fit.checkpoint import read as check_state_file

    try:
        check_state_file(partial / CHECKPOINT)
    except NewerFormat:
        raise  # one line naming the version that wrote it
    except ValueError as exc:
        raise UsageError(
            f"{exc}: the run cannot continue from it; remove {partial} and run the command again"
        ) from None


def run(args: argparse.Namespace) -> int:
    from ..runtime import set_threads
    from . import mri, reconstruct, volume

    commands = {"reconstruct": reconstruct, "mri": mri, "volume": volume}
    partial = Path(args.partial)
    saved = load_resume(partial)
    module = commands[saved["command"]]
    ns = command_options(module, saved, partial / RESUME)
    check_specs(module, ns, saved, partial / RESUME)
    check_checkpoint(partial)
    ns.out, ns.overwrite = None, False
    ns.quiet, ns.json = args.quiet, args.json
    ns.stop_requests, ns.resume_from = args.stop_requests, partial.absolute()
    ns.command = saved["command"]
    set_threads(int(saved.get("threads") or 1))
    return int(module.run(ns))
