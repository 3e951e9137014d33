#!/usr/bin/env bash
# Create .venv and install the package with every optional part (Dask, Parquet) and its
# pinned torch (the CPU wheel named in constraints.txt). `setup.sh dev` adds the developer
# tools (pytest, ruff, mypy), which a user's install leaves out.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=all
if [[ "${1:-}" == dev ]]; then extras=all,dev; fi
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[$extras]"
