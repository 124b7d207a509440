#!/usr/bin/env bash
# Set up (or refresh) the test virtual environment in .venv-test, then run the linters,
# the type checker and the whole test suite. PostgreSQL tests run when
# TONGBAN_TEST_POSTGRES_URL is set (CI always sets it); otherwise they are skipped with a reason.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv .venv-test "[test]"
export PATH="$PWD/.venv-test/bin:$PATH"
echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy
# One test process per core (pytest-xdist); each has its own PostgreSQL database.
echo "== pytest"; pytest -n "${TONGBAN_TEST_WORKERS:-auto}" "$@"
