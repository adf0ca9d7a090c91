"""Issue 4's bench: `qualityd profile` against DuckDB SUMMARIZE and Polars describe.

Generates ROWS rows x 10 mixed columns once (bench/data/, Parquet and CSV), then times, in
ROUNDS alternating rounds, each tool as its own child process (wall time and that child's peak
RSS from os.wait4), and prints one markdown table per format. Then it checks qualityd's JSON
profile against exact values computed by DuckDB over the same file. Exits 1 when a tool failed
or a reported value is out of its stated bound. Run it through bench/profile-peers.sh.
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
CACHE = ROOT / "bench" / ".venv" / "qualityd-cache"
TOOLS = ("qualityd", "duckdb", "polars")
FORMATS = ("parquet", "csv")
QUANTILES = {"p1": 0.01, "p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95, "p99": 0.99}
DOCUMENTED_HLL_ERROR = 0.008  # docs/profile-json.md, used when distinct_relative_error is absent
CATEGORIES = ["books", "games", "garden", "music", "toys", "tools", "food", "sports", "home",
              "beauty", "auto", "baby"]

# h(k) is the k-th pseudo-random UBIGINT of a row: deterministic, no seed needed.
GENERATE = """
CREATE MACRO h(i, k) AS hash(i * 16 + k);
CREATE TABLE mixed AS SELECT
  i::BIGINT AS id,
  CASE WHEN h(i, 1) % 20 = 0 THEN NULL ELSE (h(i, 2) % 50 + 1)::INTEGER END AS qty,
  CASE WHEN h(i, 3) % 20 = 0 THEN NULL ELSE (h(i, 4) % 1000000)::DOUBLE / 100 END AS price,
  CASE WHEN h(i, 5) % 10 = 0 THEN 0.0
       ELSE ((h(i, 6) % 2000001)::DOUBLE - 600000) / 1000 END AS score,
  chr((65 + h(i, 7) % 1000 // 100)::INTEGER) || chr((90 - h(i, 7) % 1000 // 100)::INTEGER)
    || '-' || (100 + (h(i, 7) % 100) * 7)::VARCHAR AS code,
  list_element({categories}, (floor(12 * pow((h(i, 8) % 1000000) / 1e6, 2)) + 1)::INTEGER)
    AS category,
  'user' || (h(i, 9) % 3000000)::VARCHAR AS name,
  CASE WHEN h(i, 10) % 20 = 0 THEN NULL
       ELSE DATE '2020-01-01' + (h(i, 11) % 1826)::INTEGER END AS created,
  TIMESTAMP '2024-01-01' + to_seconds((h(i, 12) % 31536000)::BIGINT) AS updated_at,
  CASE WHEN h(i, 13) % 20 = 0 THEN NULL ELSE h(i, 14) % 3 = 0 END AS active
FROM range({rows}) r(i);
"""


@dataclass
class Run:
    wall: float
    rss_mib: float
    code: int
    stdout: str
    stderr: str


def data_paths(rows: int) -> dict[str, Path]:
    return {fmt: DATA / f"mixed-{rows}.{fmt}" for fmt in FORMATS}


def generate(rows: int) -> None:
    """Write mixed-ROWS.parquet and .csv under bench/data/ (in a child process: see main)."""
    import duckdb
    paths = data_paths(rows)
    DATA.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(GENERATE.format(rows=rows, categories=CATEGORIES))
    options = {"parquet": "FORMAT parquet, COMPRESSION snappy", "csv": "FORMAT csv, HEADER true"}
    for fmt, path in paths.items():
        partial = path.with_name(path.name + ".partial")
        con.execute(f"COPY mixed TO '{partial}' ({options[fmt]})")
        partial.rename(path)


def child(tool: str, fmt: str, path: str) -> None:
    """The peers' side of a timed run: summarize PATH, print seconds spent (import, work)."""
    start = time.perf_counter()
    if tool == "duckdb":
        import duckdb
        imported = time.perf_counter()
        reader = "read_parquet" if fmt == "parquet" else "read_csv"
        duckdb.connect().execute(f"SUMMARIZE SELECT * FROM {reader}('{path}')").fetchall()
    else:
        import polars as pl
        imported = time.perf_counter()
        df = pl.read_parquet(path) if fmt == "parquet" else pl.read_csv(path, try_parse_dates=True)
        df.describe()
    done = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "work_s": done - imported}))


def measure(argv: list[str]) -> Run:
    """Run argv from the repository root; wall time and this child's own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=err)
        except OSError as e:
            return Run(0.0, 0.0, 127, "", str(e))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_maxrss / 1024, proc.returncode,
                   out.read().decode(errors="replace"), err.read().decode(errors="replace"))


def command(tool: str, fmt: str, path: Path, qualityd: Path) -> list[str]:
    if tool == "qualityd":
        return [str(qualityd), "profile", str(path), "--format", "json", "--cache-dir", str(CACHE)]
    return [sys.executable, __file__, "--child", tool, fmt, str(path)]


def last_json(stdout: str, whole: bool = False) -> dict | None:
    """The JSON document on stdout (or on its last line); None when there is none."""
    try:
        return json.loads(stdout if whole else (stdout.strip().splitlines() or [""])[-1])
    except ValueError:
        return None


def failure(tool: str, fmt: str, run: Run) -> str:
    tail = "\n".join(run.stderr.strip().splitlines()[-15:])
    return f"\n**{tool} on {fmt} failed** (exit {run.code}):\n```\n{tail}\n```"


def time_tools(paths: dict[str, Path], rounds: int, qualityd: Path) -> tuple[dict, dict, list]:
    """Alternate the tools; returns runs per (format, tool), qualityd's JSON per format, and
    the failures."""
    runs: dict[tuple[str, str], list[Run]] = {(f, t): [] for f in FORMATS for t in TOOLS}
    profiles: dict[str, dict] = {}
    failures: list[str] = []
    for fmt in FORMATS:  # untimed warm-up: plugin compilation and cache, page cache
        measure(command("qualityd", fmt, paths[fmt], qualityd))
    for r in range(rounds):
        for fmt in FORMATS:
            for tool in TOOLS:
                run = measure(command(tool, fmt, paths[fmt], qualityd))
                print(f"round {r + 1} {fmt:7} {tool:8} {run.wall:7.3f} s {run.rss_mib:8.1f} MiB",
                      file=sys.stderr, flush=True)
                if tool == "qualityd":  # a failed container still leaves a report to check
                    profiles[fmt] = last_json(run.stdout, whole=True) or profiles.get(fmt)
                if run.code != 0:
                    failures.append(failure(tool, fmt, run))
                    print(failures[-1], file=sys.stderr, flush=True)
                    continue
                runs[fmt, tool].append(run)
    return runs, profiles, failures


def print_table(fmt: str, runs: dict, rows: int) -> bool | None:
    """The format's table; whether qualityd met the goal (None when it cannot be told)."""
    wall = {t: statistics.median(r.wall for r in runs[fmt, t]) for t in TOOLS if runs[fmt, t]}
    rss = {t: max(r.rss_mib for r in runs[fmt, t]) for t in wall}
    work = {t: statistics.median((last_json(r.stdout) or {}).get("work_s", r.wall)
                                 for r in runs[fmt, t]) for t in wall if t != "qualityd"}
    peers = [wall[t] for t in ("duckdb", "polars") if t in wall]
    faster = min(peers) if peers else None
    rounds = max(len(runs[fmt, t]) for t in TOOLS)
    print(f"\n### {fmt}: {rows} rows x 10 columns, median of {rounds} rounds\n")
    print("| tool | median wall s | of which work s | M rows/s | peak RSS MiB | vs faster peer |")
    print("| --- | --- | --- | --- | --- | --- |")
    for tool in TOOLS:
        if tool not in wall:
            print(f"| {tool} | failed | | | | |")
            continue
        ratio = f"{wall[tool] / faster:.2f}x" if faster else "n/a"
        inner = f"{work[tool]:.3f}" if tool in work else f"{wall[tool]:.3f}"
        print(f"| {tool} | {wall[tool]:.3f} | {inner} | {rows / wall[tool] / 1e6:.2f} "
              f"| {rss[tool]:.0f} | {ratio} |")
    if "qualityd" not in wall or faster is None or "duckdb" not in rss:
        return None
    return wall["qualityd"] <= faster and rss["qualityd"] <= rss["duckdb"]


# ---------------------------------------------------------------- checks against exact values

class Checks:
    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, field: str, stat: str, got, exact, bound: str, ok: bool | None) -> None:
        self.rows.append((field, stat, got, exact, bound, ok))

    def missing(self, field: str, stat: str) -> None:
        self.add(field, stat, "-", "", "", None)

    def print(self, title: str) -> None:
        print(f"\n### checks: {title}\n")
        print("| field | statistic | qualityd | exact | bound | ok |")
        print("| --- | --- | --- | --- | --- | --- |")
        for field, stat, got, exact, bound, ok in self.rows:
            verdict = {True: "ok", False: "**FAIL**", None: "not reported", "n/a": "n/a"}[ok]
            print(f"| {field} | {stat} | {short(got)} | {short(exact)} | {bound} | {verdict} |")

    def counts(self) -> tuple[int, int, int]:
        done = [r for r in self.rows if r[5] != "n/a"]
        return len(done), sum(r[5] is False for r in done), sum(r[5] is None for r in done)


def short(value) -> str:
    if isinstance(value, float):
        return f"{value:.12g}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def close(got, exact, rel: float) -> bool:
    if got is None or exact is None:
        return got is None and exact is None
    return abs(float(got) - float(exact)) <= rel * max(abs(float(exact)), 1e-300)


def family(duck_type: str) -> str:
    """The Arrow type-name prefix qualityd should report for a DuckDB column type."""
    if duck_type in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT"):
        return "int"
    if duck_type in ("FLOAT", "DOUBLE"):
        return "double" if duck_type == "DOUBLE" else "float"
    return {"VARCHAR": "string", "DATE": "date32", "BOOLEAN": "bool"}.get(
        duck_type, "timestamp" if duck_type.startswith("TIMESTAMP") else duck_type.lower())


def check_field(con, checks: Checks, f: dict, duck_type: str) -> None:
    """Compare one field of qualityd's JSON with DuckDB over table `src`."""
    name, c, t = f["name"], f'"{f["name"]}"', duck_type
    numeric, floats = family(t) in ("int", "double", "float"), t in ("FLOAT", "DOUBLE")
    checks.add(name, "type", f.get("type"), t, f"{family(t)}*",
               str(f.get("type", "")).startswith(family(t)))
    count, nulls, distinct = con.execute(
        f"SELECT count({c}), count(*) - count({c}), count(DISTINCT {c}) FROM src").fetchone()
    checks.add(name, "count", f.get("count"), count, "exact", f.get("count") == count)
    checks.add(name, "nulls", f.get("nulls"), nulls, "exact", f.get("nulls") == nulls)
    check_distinct(checks, f, distinct)
    lo, hi = f.get("min"), f.get("max")
    same = con.execute(f"SELECT min({c}) = CAST(? AS {t}), max({c}) = CAST(? AS {t}), min({c}), "
                       f"max({c}) FROM src", [lo, hi]).fetchone() if lo is not None else None
    checks.add(name, "min", lo, same and same[2], "exact", bool(same and same[0]))
    checks.add(name, "max", hi, same and same[3], "exact", bool(same and same[1]))
    if numeric:
        mean, sum_ = ("favg", "fsum") if floats else ("avg", "sum")
        exact = con.execute(f"SELECT {mean}({c}), stddev_samp({c}), {sum_}({c}), var_samp({c}) "
                            f"FROM src").fetchone()
        for stat, value, rel in zip(("mean", "stddev", "sum", "variance"), exact,
                                    (1e-9, 1e-9, 1e-6 if floats else 1e-9, 1e-9)):
            if stat not in f:
                checks.missing(name, stat)
            else:
                checks.add(name, stat, f[stat], value, f"rel {rel:g}", close(f[stat], value, rel))
    ordered = numeric or family(t) in ("date32", "timestamp")  # where sketches are expected
    check_quantiles(con, checks, f, c, t, count, ordered)
    check_histogram(con, checks, f, c, t, count, ordered)
    check_top_values(con, checks, f, c, t)


def check_distinct(checks: Checks, f: dict, exact: int) -> None:
    got = f.get("distinct")
    if not f.get("distinct_is_approximate"):
        checks.add(f["name"], "distinct", got, exact, "exact", got == exact)
        return
    rse = f.get("distinct_relative_error")
    note = "" if rse is not None else " (documented; key not reported)"
    rse = DOCUMENTED_HLL_ERROR if rse is None else rse
    checks.add(f["name"], "distinct ~", got, exact, f"rel 3x{rse:g}{note}",
               got is not None and close(got, exact, 3 * rse))


def check_quantiles(con, checks: Checks, f: dict, c: str, t: str, count: int,
                    ordered: bool) -> None:
    """A quantile q at p is right when q's exact rank interval comes within eps of p."""
    if "quantiles" not in f:
        checks.missing(f["name"], "quantiles")
        return
    quantiles, eps = f["quantiles"], f.get("quantile_rank_error")
    if quantiles is None or not count:
        checks.add(f["name"], "quantiles", None, "", "", None if ordered else "n/a")
        return
    keys = [k for k in QUANTILES if k in quantiles]
    filters = ", ".join(f"count(*) FILTER ({c} < CAST(? AS {t})), "
                        f"count(*) FILTER ({c} <= CAST(? AS {t}))" for _ in keys)
    params = [v for k in keys for v in (quantiles[k], quantiles[k])]
    ranks = con.execute(f"SELECT {filters} FROM src", params).fetchone()
    exact = con.execute(f"SELECT quantile_disc({c}, {[QUANTILES[k] for k in keys]}) FROM src"
                        ).fetchone()[0]
    for i, k in enumerate(keys):
        p, lt, le = QUANTILES[k], ranks[2 * i] / count, ranks[2 * i + 1] / count
        bound = f"rank [{lt:.4f}, {le:.4f}] vs {p}" + (f" ±{eps:.4g}" if eps is not None else "")
        ok = None if eps is None else (lt <= p + eps and le >= p - eps)
        checks.add(f["name"], f"quantile {k}", quantiles[k], exact[i], bound, ok)


def check_histogram(con, checks: Checks, f: dict, c: str, t: str, count: int,
                    ordered: bool) -> None:
    """The first, middle and last bins exactly, and that the bins add up to the count."""
    if "histogram" not in f:
        checks.missing(f["name"], "histogram")
        return
    bins = f["histogram"] or []
    if not bins:
        checks.add(f["name"], "histogram", None, "", "", None if ordered else "n/a")
        return
    total = sum(b["count"] for b in bins)
    checks.add(f["name"], f"histogram total ({len(bins)} bins)", total, count, "exact",
               total == count)
    for i in sorted({0, len(bins) // 2, len(bins) - 1}):
        b, last = bins[i], i == len(bins) - 1
        exact = con.execute(f"SELECT count(*) FILTER ({c} >= CAST(? AS {t}) AND {c} "
                            f"{'<=' if last else '<'} CAST(? AS {t})) FROM src",
                            [b["lower"], b["upper"]]).fetchone()[0]
        span = f"[{short(b['lower'])}, {short(b['upper'])}{']' if last else ')'}"
        checks.add(f["name"], f"bin {i} {span}", b["count"], exact, "exact", b["count"] == exact)


def check_top_values(con, checks: Checks, f: dict, c: str, t: str) -> None:
    """True count within [count - count_error, count + count_error]."""
    if "top_values" not in f:
        checks.missing(f["name"], "top_values")
        return
    if not f["top_values"]:
        checks.add(f["name"], "top_values", f["top_values"], "", "", "n/a")
    for top in (f["top_values"] or [])[:5]:
        exact = con.execute(f"SELECT count(*) FILTER ({c} = CAST(? AS {t})) FROM src",
                            [top["value"]]).fetchone()[0]
        err = top.get("count_error")
        ok = None if err is None else abs(exact - top["count"]) <= err
        checks.add(f["name"], f"top {short(top['value'])}", top["count"], exact,
                   f"±{err}" if err is not None else "count_error not reported", ok)


def check_profile(fmt: str, path: Path, profile: dict | None, rows: int) -> Checks:
    import duckdb
    checks = Checks()
    if profile is None:
        checks.add("-", "profile", "no successful qualityd run", "", "", False)
        return checks
    container = (profile.get("containers") or [{}])[0]
    checks.add("-", "profile_version", profile.get("profile_version"), 1, "exact",
               profile.get("profile_version") == 1)
    if container.get("error"):
        checks.add("-", "container error", container["error"], None, "", False)
        return checks
    checks.add("-", "rows", container.get("rows"), rows, "exact", container.get("rows") == rows)
    con = duckdb.connect()
    reader = "read_parquet" if fmt == "parquet" else "read_csv"
    con.execute(f"CREATE TABLE src AS SELECT * FROM {reader}('{path}')")
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE src)").fetchall())
    for field in container.get("fields", []):
        if field.get("name") not in types:
            checks.add(field.get("name"), "field", "reported", "not in file", "", False)
            continue
        try:
            check_field(con, checks, field, types[field["name"]])
        except duckdb.Error as e:  # a reported value DuckDB cannot even read back
            checks.add(field["name"], "check", "error", str(e).splitlines()[0], "", False)
    for missing in set(types) - {f.get("name") for f in container.get("fields", [])}:
        checks.add(missing, "field", "absent", "in file", "", False)
    con.close()
    return checks


def print_machine(qualityd: Path, load: tuple) -> None:
    try:
        qv = subprocess.run([str(qualityd), "--version"], capture_output=True, text=True).stdout
    except OSError:
        qv = f"{qualityd} missing"
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), "?")
    print(f"{dt.datetime.now().isoformat(timespec='minutes')}, commit {commit}; {os.cpu_count()} "
          f"cores ({cpu}), Linux {platform.release()}; {qv.strip()}, duckdb "
          f"{version('duckdb')}, polars {version('polars')}, Python {platform.python_version()}")
    print(f"load average before the timing: {load[0]:.2f} (1 min), {load[1]:.2f} (5 min)")


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        generate(int(sys.argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("ROWS", 5_000_000)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 3)))
    parser.add_argument("--qualityd", type=Path, default=ROOT / "target/release/qualityd")
    args = parser.parse_args()
    start = time.perf_counter()
    # Children inherit the peak RSS of the process they were forked from (Linux keeps the
    # high-water mark across exec), so this process stays small until the timing is done:
    # data is generated in a child, and DuckDB is imported here only for the checks.
    paths = data_paths(args.rows)
    if not all(p.exists() for p in paths.values()):
        subprocess.run([sys.executable, __file__, "--generate", str(args.rows)], check=True)
    load = os.getloadavg()  # another busy process makes every figure below slower
    runs, profiles, failures = time_tools(paths, args.rounds, args.qualityd)
    print("## qualityd profile vs DuckDB SUMMARIZE and Polars describe\n")
    print_machine(args.qualityd, load)
    print("data: " + ", ".join(f"{p.relative_to(ROOT)} ({p.stat().st_size / 2**20:.0f} MiB)"
                               for p in paths.values()))
    goals = {fmt: print_table(fmt, runs, args.rows) for fmt in FORMATS}
    verdict = {True: "met", False: "**not met**", None: "unknown (a tool failed)"}
    print("\ngoal: qualityd ≤ 1.0x the faster peer, peak memory ≤ DuckDB's: "
          + "; ".join(f"{fmt} {verdict[goals[fmt]]}" for fmt in FORMATS))
    for text in failures:
        print(text)
    total = [0, 0, 0]
    for fmt in FORMATS:
        checks = check_profile(fmt, paths[fmt], profiles.get(fmt), args.rows)
        checks.print(f"{fmt}, qualityd vs exact values by DuckDB")
        total = [a + b for a, b in zip(total, checks.counts())]
    print(f"\n{total[0]} checks, {total[1]} failed, {total[2]} not reported")
    print(f"(bench took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return 0 if not failures and total[1] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
