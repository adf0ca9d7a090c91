#!/usr/bin/env bash
# Issue 24 item 10: time `qualityd profile` of a ~100 MB NDJSON file against DuckDB and Polars.
# Env: ROWS (default 565000, ~100 MB), ROUNDS (default 3). Arguments are passed on to
# bench/ndjson_peers.py (e.g. `--plugins before=DIR --plugins after=DIR`). See bench/README.md.
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

export ROWS="${ROWS:-565000}" ROUNDS="${ROUNDS:-3}"
exec "$venv/bin/python" bench/ndjson_peers.py "$@"
