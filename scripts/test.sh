#!/usr/bin/env bash
# Set up, then lint (ruff), format check, type-check (mypy) and run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy src/untrained_cs
set +e
.venv/bin/python -m pytest -q
code=$?
set -e
# pytest exits 5 when it collected no tests: that is a broken suite here, say so.
if [[ $code -eq 5 ]]; then echo "no tests were collected" >&2; exit 1; fi
exit $code
