"""The `untrained-cs` command line: thin argument parsing over the library.

Each subcommand validates its input, calls the library, writes a run folder atomically and
prints one summary line (or the metrics as JSON). Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from .common import Interrupted, Parser, UsageError


def build_parser() -> Parser:
    from . import images, mri, reconstruct, reproduce, resume, sweep, theory, volume

    parser = Parser(
        prog="untrained-cs",
        description="Compressive sensing with un-trained convolutional generators.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    reconstruct.add_parser(sub)
    theory.add_parser(sub)
    mri.add_parser(sub)
    volume.add_parser(sub)
    reproduce.add_parser(sub)
    resume.add_parser(sub)
    sweep.add_parser(sub)
    images.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit codes 0 done, 2 bad input, 1 run-time failure, 130/143 stopped."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["reconstruct"]  # the main job on its embedded default
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    prog = " ".join(["untrained-cs", args.command, *([args.tool] if "tool" in args else [])])
    code, message = _run(args)
    if message:
        sys.stderr.write(f"{prog}: {message}\n")
    return code


def _run(args: Any) -> tuple[int, str]:
    from ..fit import FitDivergedError
    from ..runtime import set_threads, tune_process
    from .common import WriteError
    from .signals import EXIT_CODES, stop_requests

    tune_process()
    try:
        if "threads" in args:  # commands that compute (not resume: it restores its own)
            set_threads(args.threads)
        with stop_requests() as requests:
            args.stop_requests = requests
            return int(args.run(args)), ""
    except (UsageError, ValueError) as exc:
        return 2, f"error: {one_line(exc)}"
    except (FitDivergedError, WriteError) as exc:
        return 1, f"error: {one_line(exc)}"
    except Interrupted as exc:
        return EXIT_CODES.get(exc.signum, 130), exc.message()
    except KeyboardInterrupt:
        return 130, "interrupted; nothing was written"
    except (RuntimeError, MemoryError, OSError) as exc:  # torch, allocation, files: one line
        return 1, f"error: {type(exc).__name__}: {one_line(exc)}"


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (third-party messages run to many)."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def package_version() -> str:
    from ..runfolder import package_version as version

    return version()


if __name__ == "__main__":
    sys.exit(main())
