"""Issue 24 item 10's bench: `qualityd profile` of a ~100 MB NDJSON file against DuckDB
`SUMMARIZE ... read_json` and Polars `read_ndjson(...).describe()`.

Generates the file once (deterministic: DuckDB SQL hashing the row number, the ten mixed
columns of bench/profile_peers.py, written by DuckDB's `COPY ... (FORMAT json)`), then times
each tool as its own child process in ROUNDS alternating rounds (wall time, and that child's
peak RSS from os.wait4, as bench/profile_peers.py does) and prints one markdown table. Several
plugin directories can be timed side by side (`--plugins NAME=DIR`, e.g. before and after a
change), each with the same qualityd binary and its own artifact cache. Exits 1 when a run
failed or the tools disagree on the row count. Run it through bench/ndjson-peers.sh.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_peers import CATEGORIES, GENERATE, ROOT, Run, measure  # noqa: E402

DATA = ROOT / "bench" / "data"
CACHE = ROOT / "bench" / ".venv" / "ndjson-cache"


def data_path(rows: int) -> Path:
    return DATA / f"mixed-{rows}.ndjson"


def generate(rows: int) -> None:
    """Write mixed-ROWS.ndjson (in a child process, so this one's RSS stays small)."""
    import duckdb
    path = data_path(rows)
    DATA.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(GENERATE.format(rows=rows, categories=CATEGORIES))
    partial = path.with_name(path.name + ".partial")
    con.execute(f"COPY (SELECT * FROM mixed ORDER BY id) TO '{partial}' (FORMAT json)")
    partial.rename(path)


def child(tool: str, path: str) -> None:
    """The peers' side of a timed run: summarize PATH, print the rows and seconds spent."""
    start = time.perf_counter()
    if tool == "duckdb":
        import duckdb
        imported = time.perf_counter()
        con = duckdb.connect()
        summary = con.execute(f"SUMMARIZE SELECT * FROM read_json('{path}')").fetchall()
        rows = summary[0][-2] if summary else None  # the `count` column
    else:
        import polars as pl
        imported = time.perf_counter()
        frame = pl.read_ndjson(path)
        frame.describe()
        rows = frame.height
    done = time.perf_counter()
    print(json.dumps({"rows": rows, "import_s": imported - start, "work_s": done - imported}))


def qualityd_rows(run: Run) -> int | None:
    try:
        report = json.loads(run.stdout)
        return report["containers"][0]["rows"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        generate(int(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", 565_000)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 3)))
    parser.add_argument("--qualityd", type=Path, default=ROOT / "target/release/qualityd")
    parser.add_argument("--plugins", action="append", default=[],
                        help="NAME=DIR of plugins to time (repeatable); default "
                             "plugins/target/wasm32-wasip2/release")
    args = parser.parse_args()
    plugin_dirs = dict(p.split("=", 1) for p in args.plugins) or {
        "qualityd": str(ROOT / "plugins/target/wasm32-wasip2/release")}
    path = data_path(args.rows)
    if not path.exists():
        generated = measure([sys.executable, __file__, "--generate", str(args.rows)])
        if generated.code != 0:
            print(generated.stderr, file=sys.stderr)
            return 1
    size_mb = path.stat().st_size / 1e6

    def command(tool: str) -> list[str]:
        if tool in plugin_dirs:
            return [str(args.qualityd), "profile", str(path), "--format", "json",
                    "--plugins", plugin_dirs[tool], "--cache-dir", str(CACHE / tool)]
        return [sys.executable, __file__, "--child", tool, str(path)]

    tools = [*plugin_dirs, "duckdb", "polars"]
    for tool in plugin_dirs:  # untimed warm-up: plugin compilation, page cache
        measure(command(tool))
    load = os.getloadavg()
    runs: dict[str, list[Run]] = {t: [] for t in tools}
    rows: dict[str, int | None] = {}
    failed = False
    for r in range(args.rounds):
        for tool in tools:
            run = measure(command(tool))
            print(f"round {r + 1} {tool:10} {run.wall:7.3f} s {run.rss_mib:8.1f} MiB",
                  file=sys.stderr, flush=True)
            if run.code != 0:
                failed = True
                print(f"{tool} failed (exit {run.code}):\n{run.stderr[-2000:]}", file=sys.stderr)
                continue
            runs[tool].append(run)
            if tool in plugin_dirs:
                rows[tool] = qualityd_rows(run)
            else:
                rows[tool] = json.loads(run.stdout.strip().splitlines()[-1]).get("rows")
    print(f"\n### NDJSON: {path.name}, {size_mb:.0f} MB, {args.rows} rows x 10 columns, "
          f"median of {args.rounds} rounds (load before timing {load[0]:.2f})\n")
    print("| tool | median wall s | MB/s | peak RSS MiB | rows |")
    print("| --- | --- | --- | --- | --- |")
    for tool in tools:
        if not runs[tool]:
            print(f"| {tool} | failed | | | |")
            continue
        wall = statistics.median(r.wall for r in runs[tool])
        rss = max(r.rss_mib for r in runs[tool])
        print(f"| {tool} | {wall:.3f} | {size_mb / wall:.1f} | {rss:.0f} | {rows.get(tool)} |")
    if len({v for v in rows.values()}) > 1:
        print(f"\nrow counts disagree: {rows}")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
