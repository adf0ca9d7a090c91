#!/usr/bin/env bash
# Issue 24: the CPU an idle daemon uses. Starts `qualityd serve` on the bundled example (all
# plugins of the build in its plugin directory), waits until it is ready and has loaded them,
# then reads the process's CPU time (/proc/PID/stat, user + system) over SECONDS (default 60)
# and prints it as a share of one core. Env: SECONDS_IDLE (default 60), QUALITYD (binary,
# default target/release/qualityd, built when missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
idle="${SECONDS_IDLE:-60}"
bin="${QUALITYD:-target/release/qualityd}"
if [ ! -x "$bin" ]; then
    make plugins >&2
    cargo build --release -p qualityd >&2
fi
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/qualityd.toml" <<TOML
state_dir = "$work/state"
plugin_dir = "$root/plugins/target/wasm32-wasip2/release"
cache_dir = "$work/cache"
listen = "127.0.0.1:0"

[datastores.example]
plugin = "files"
settings = { path = "$root/examples/data" }
grants = { directories = ["$root/examples/data"] }
TOML
QUALITYD_LOG=warn "$bin" serve --config "$work/qualityd.toml" 2> "$work/log" &
pid=$!
until [ -s "$work/state/listen.addr" ]; do sleep 0.2; kill -0 "$pid"; done
addr=$(cat "$work/state/listen.addr")
until curl -sf "http://$addr/readyz" > /dev/null; do sleep 0.2; kill -0 "$pid"; done
sleep 2
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
before=$(ticks)
sleep "$idle"
after=$(ticks)
used=$((after - before))
awk -v t="$used" -v hz="$hz" -v s="$idle" 'BEGIN {
    printf "idle daemon: %.2f s of CPU in %d s = %.2f%% of one core\n", t / hz, s, 100 * t / hz / s }'
