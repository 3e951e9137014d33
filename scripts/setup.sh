#!/usr/bin/env bash
# Create .venv and install the package with its pinned torch (CPU wheel from constraints.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
