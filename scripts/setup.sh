#!/usr/bin/env bash
# Everything the build needs beyond the Rust toolchain itself; safe to run again.
set -euo pipefail
rustup target add wasm32-wasip2
rustup component add rustfmt clippy

# The files plugin reads zstd-compressed Parquet with the zstd C library, compiled for
# wasm32-wasip2 by clang against wasi-libc (plugins/.cargo/config.toml names the tools).
# Debian's packages; installed only when one is missing.
wasm_c_packages=(clang llvm wasi-libc libclang-rt-14-dev-wasm32)
missing=()
for package in "${wasm_c_packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing the C toolchain for wasm32-wasip2: ${missing[*]}" >&2
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends \
        "${missing[@]}"
fi
