#!/usr/bin/env bash
# maina's test command: installs what the tests need, then runs every test suite
# on the embedded default (SQLite). What it installs, and where:
#   - a Python virtual environment in ./.venv with python-stdnum from PyPI (the
#     independent oracle for My Number check digits);
# Nothing is installed system-wide. `.ci/run` runs this and, in addition, the store
# suite against PostgreSQL, clippy and rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test.sh: Python venv .venv with python-stdnum (oracle for check digits)"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import stdnum.jp.in_' 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check 'python-stdnum>=2'
fi
export MAINA_PYTHON="$PWD/.venv/bin/python"

echo "== test.sh: cargo test --workspace (unit, property, oracle, store on SQLite, end-to-end)"
cargo test --workspace --locked "$@"
