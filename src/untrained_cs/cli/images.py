"""`untrained-cs images`: the bundled images that ``--image`` accepts by name."""

from __future__ import annotations

import argparse
from typing import Any

from ..io.images import ALIASES, BUNDLED


def add_parser(sub: Any) -> None:
    p = sub.add_parser("images", help="list the bundled images (--image NAME)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    aliases = {name: [a for a, n in ALIASES.items() if n == name] for name in BUNDLED}
    for name in BUNDLED:
        extra = f"  (also: {', '.join(aliases[name])})" if aliases[name] else ""
        print(f"{name}{extra}")
    return 0
