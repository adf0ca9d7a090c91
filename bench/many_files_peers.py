"""Issue 24, item 8: a directory of many small CSV files, profiled by qualityd (the CLI, and a
profile job of the daemon) beside DuckDB (SUMMARIZE over read_csv of the glob) and Polars
(read_csv of the glob, then describe).

Writes FILES small CSVs of ROWS rows each twice under WORK: `grouped/` (names differing only
by a number: one container of FILES files) and `distinct/` (names of letters: FILES
containers of one file each). Each tool runs as its own child process; the table gives the
wall time and the child's peak RSS (os.wait4), and qualityd's rows are checked against the
files' total. The daemon's time is from POST /jobs to the job's end, on a daemon already
ready (plugins compiled), and its RSS is the daemon's peak over its whole life.

Usage: python bench/many_files_peers.py --qualityd target/release/qualityd \
           --plugins plugins/target/wasm32-wasip2/release [--files 3000] [--rows 5]
           [--work /tmp/many-files] [--cache-dir DIR] [--timeout 900] [--skip daemon,...]
Run it with a Python that has duckdb and polars (bench/requirements.txt).
"""

import argparse
import json
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

POLARS = """
import sys, polars as pl
frame = pl.read_csv(sys.argv[1] + "/*.csv")
frame.describe()
print(frame.height)
"""

DUCKDB = """
import sys, duckdb
con = duckdb.connect()
cursor = con.execute(f"SUMMARIZE SELECT * FROM read_csv('{sys.argv[1]}/*.csv')")
names = [d[0] for d in cursor.description]
print(cursor.fetchall()[0][names.index("count")])
"""


def letters(i: int) -> str:
    name = ""
    for _ in range(4):
        name += string.ascii_lowercase[i % 26]
        i //= 26
    return name


def generate(root: Path, files: int, rows: int, distinct: bool) -> None:
    """FILES CSVs of ROWS rows: an id, a label, a float and a date."""
    if root.is_dir() and len(list(root.iterdir())) == files:
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for i in range(files):
        name = f"t_{letters(i)}.csv" if distinct else f"part_{i:05d}.csv"
        lines = ["id,label,value,day"]
        for r in range(rows):
            n = i * rows + r
            lines.append(f"{n},l{n % 97},{(n * 7919) % 10007 / 100:.2f},2024-01-{r % 28 + 1:02d}")
        (root / name).write_text("\n".join(lines) + "\n")


def measure_rss(argv: list[str], timeout: float) -> tuple[float, float, int, str]:
    """Wall seconds, the child's own peak RSS in MiB (os.wait4), exit code, stdout."""
    started = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = started + timeout
    chunks = []
    os.set_blocking(proc.stdout.fileno(), False)
    while True:
        try:
            chunk = proc.stdout.read()
            if chunk:
                chunks.append(chunk)
        except (BlockingIOError, TypeError):
            pass
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.monotonic() - started
    rest = proc.stdout.read()
    if rest:
        chunks.append(rest)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode, "".join(chunks)


def qualityd_rows(stdout: str) -> int | None:
    """The rows of every container in `qualityd profile --format json`."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    containers = report if isinstance(report, list) else report.get("containers", [])
    total = 0
    for container in containers:
        profile = container.get("profile", container)
        if "rows" not in profile:
            return None
        total += profile["rows"]
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, {}


def daemon_profile(args, data: Path, work: Path) -> tuple[float, float, int, str]:
    """Seconds from POST /jobs to the end of a profile job, the daemon's peak RSS, 0 when the
    job succeeded, and its final state."""
    state = work / f"state-{data.name}"
    shutil.rmtree(state, ignore_errors=True)
    port = free_port()
    config = work / f"qualityd-{data.name}.toml"
    config.write_text(
        f'state_dir = "{state}"\nplugin_dir = "{args.plugins}"\ncache_dir = "{args.cache_dir}"\n'
        f'listen = "127.0.0.1:{port}"\n\n[datastores.many]\nplugin = "files"\n'
        f'settings = {{ path = "{data}" }}\ngrants = {{ directories = ["{data}"] }}\n'
    )
    proc = subprocess.Popen([str(args.qualityd), "serve", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                if http("GET", base + "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        started = time.monotonic()
        code, job = http("POST", base + "/jobs", {"kind": "profile", "datastore": "many"})
        if code != 202:
            return float("nan"), float("nan"), 1, f"POST /jobs answered {code}"
        while time.monotonic() - started < args.timeout:
            _, job = http("GET", f"{base}/jobs/{job['id']}")
            if job.get("state") not in ("queued", "running"):
                break
            time.sleep(0.05)
        wall = time.monotonic() - started
        final = job.get("state", "?")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(proc.pid, 0)
    return wall, usage.ru_maxrss / 1024, 0 if final == "succeeded" else 1, final


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qualityd", type=Path, required=True)
    parser.add_argument("--plugins", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/many-files/cache"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/many-files"))
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--rows", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--skip", default="", help="tools to leave out, comma-separated")
    args = parser.parse_args()
    args.plugins = args.plugins.resolve()
    args.qualityd = args.qualityd.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    expected = args.files * args.rows

    # Untimed: compile the plugin into the cache once.
    tiny = args.work / "warm-up"
    generate(tiny, 2, 1, False)
    if "qualityd" not in skip:
            subprocess.run([str(args.qualityd), "profile", str(tiny), "--plugins",
                        str(args.plugins), "--cache-dir", str(args.cache_dir)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    print(f"{args.files} files x {args.rows} rows; load average before: "
          f"{os.getloadavg()[0]:.2f}; {os.cpu_count()} cores\n")
    print("| layout | tool | seconds | files/s | peak RSS MiB | rows | ok |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    failed = False
    for layout in ("grouped", "distinct"):
        data = args.work / layout
        generate(data, args.files, args.rows, layout == "distinct")
        runs = {
            "qualityd CLI": lambda: measure_rss(
                [str(args.qualityd), "profile", str(data), "--format", "json", "--plugins",
                 str(args.plugins), "--cache-dir", str(args.cache_dir)], args.timeout),
            "qualityd daemon": lambda: daemon_profile(args, data, args.work),
            "duckdb": lambda: measure_rss([sys.executable, "-c", DUCKDB, str(data)], args.timeout),
            "polars": lambda: measure_rss([sys.executable, "-c", POLARS, str(data)], args.timeout),
        }
        for tool, run in runs.items():
            if tool.split()[0] in skip or tool.replace(" ", "-") in skip:
                continue
            wall, rss, code, out = run()
            if tool == "qualityd CLI":
                rows = qualityd_rows(out)
            elif tool == "qualityd daemon":
                rows = None
            else:
                rows = int(out.strip().splitlines()[-1]) if code == 0 and out.strip() else None
            ok = code == 0 and (rows is None or rows == expected)
            failed |= not ok
            shown = "" if rows is None else rows
            note = "" if code == 0 else f" (exit {code}{': ' + out if tool.endswith('daemon') else ''})"
            print(f"| {layout} | {tool} | {wall:.2f} | {args.files / wall:.0f} | {rss:.0f} "
                  f"| {shown} | {'yes' if ok else 'NO'}{note} |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
