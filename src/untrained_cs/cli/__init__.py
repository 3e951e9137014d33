"""The `untrained-cs` command line: thin argument parsing over the library.

Each subcommand validates its input, calls the library, writes a run folder atomically and
prints one summary line (or the metrics as JSON). Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .common import Parser, UsageError


def build_parser() -> Parser:
    from . import mri, reconstruct, theory

    parser = Parser(
        prog="untrained-cs",
        description="Compressive sensing with un-trained convolutional generators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    reconstruct.add_parser(sub)
    theory.add_parser(sub)
    mri.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ..fit import FitDivergedError
    from .common import WriteError
    from .speed import tune_process

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["reconstruct"]  # the main job on its embedded default
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    prog = f"untrained-cs {args.command}"
    tune_process()
    try:
        return int(args.run(args))
    except (UsageError, ValueError) as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 2
    except FitDivergedError as exc:
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 1
    except WriteError as exc:
        sys.stderr.write(f"{prog}: error: {exc} (the metrics were printed on stdout)\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{prog}: interrupted; nothing was written\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
