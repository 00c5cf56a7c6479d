#!/usr/bin/env bash
# Runs the benchmark: boots one fast guest and prints tether, qemu-ga and the
# raw virtio-serial channel side by side (median [min–max] over the rounds),
# from C++ and, for ping and exec, from Python (bench/python/).
#   ./scripts/bench.sh [--rounds N]      (default 5)
# With --ansible: the Ansible rows instead (bench/ansible/compare.py: one
# playbook through libvirt_qemu and through tether, a libvirt Debian domain).
#   ./scripts/bench.sh --ansible [--rounds N] [--mib M]   (default 1 round, 50 MiB)
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
if [[ ${1:-} == --ansible ]]; then
  shift
  cmake --build --preset release -j "$(nproc)" --target ansible-collection tether_python tetherctl guest-debian
  exec /usr/bin/python3 bench/ansible/compare.py --build build/release "$@"
fi
cmake --build --preset release -j "$(nproc)" --target tether-bench
exec ./build/release/bench/tether-bench "$@"
