#!/usr/bin/env bash
# Issue 4: time `qualityd profile` against DuckDB SUMMARIZE and Polars describe, and check
# qualityd's figures against exact values. Env: ROWS (default 5000000), ROUNDS (default 3).
# Arguments are passed on to bench/profile_peers.py. See bench/README.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt >&2

# Build output goes to stderr: stdout is the report.
scripts/setup.sh >&2
make plugins >&2
cargo build --release -p qualityd >&2

export ROWS="${ROWS:-5000000}" ROUNDS="${ROUNDS:-3}"
exec "$venv/bin/python" bench/profile_peers.py "$@"
