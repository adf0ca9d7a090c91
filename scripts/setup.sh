#!/usr/bin/env bash
# Everything the build needs beyond the Rust toolchain itself; safe to run again.
set -euo pipefail
rustup target add wasm32-wasip2
rustup component add rustfmt clippy
