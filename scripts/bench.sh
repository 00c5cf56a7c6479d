#!/usr/bin/env bash
# Runs the benchmark: boots one fast guest and prints tether, qemu-ga and the
# raw virtio-serial channel side by side (median [min–max] over the rounds),
# from C++ and, for ping and exec, from Python (bench/python/).
#   ./scripts/bench.sh [--rounds N]      (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tether-bench
exec ./build/release/bench/tether-bench "$@"
