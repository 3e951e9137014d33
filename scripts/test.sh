#!/usr/bin/env bash
# Set up (with the developer tools), then lint (ruff), format check, type-check (mypy) and
# run the tests: the fast suite (plain `pytest`), then the end-to-end checks marked slow.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy src/untrained_cs
set +e
.venv/bin/python -m pytest -q
code=$?
set -e
# pytest exits 5 when it collected no tests: for the fast suite that is a broken suite, say so.
if [[ $code -eq 5 ]]; then echo "no tests were collected" >&2; exit 1; fi
if [[ $code -ne 0 ]]; then exit $code; fi
set +e
.venv/bin/python -m pytest -q -m slow
code=$?
set -e
# no test marked slow (exit 5) is fine: the fast suite above ran
if [[ $code -eq 5 ]]; then exit 0; fi
exit $code
