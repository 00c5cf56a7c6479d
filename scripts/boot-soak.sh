#!/usr/bin/env bash
# Boots a test guest many times, two at a time, and counts the boots that
# hang (console silent past a limit) or fail: the rig's own reliability
# check. With --load, a parallel build from scratch (no compiler cache) runs
# the whole time, as on a busy CI machine. Hung boots keep their state
# directory (console.log, qemu.log, firmware.log) and the report names it.
#
#   ./scripts/boot-soak.sh [--guest fast|debian] [--boots 40] [--parallel 2]
#                          [--load] [--retry] [--silence-limit S]
set -euo pipefail
cd "$(dirname "$0")/.."
load=0 args=()
while (($#)); do
  case "$1" in
    --load) load=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tether-boot-soak

loader=""
if ((load)); then
  scratch=$(mktemp -d /tmp/tether-soak-load-XXXXXX)
  cmake -S . -B "$scratch" -G Ninja -DTETHER_CCACHE=OFF -DTETHER_BUILD_VM_TESTS=OFF >/dev/null
  # A build from scratch, over and over, on every core.
  # (its own session, so that one kill of its process group ends all of it)
  setsid bash -c 'while :; do cmake --build "$1" --clean-first -j "$2" >/dev/null 2>&1 || true; done' \
    loader "$scratch" "$(nproc)" &
  loader=$!
  trap 'kill -- -$loader 2>/dev/null; wait $loader 2>/dev/null; rm -rf "$scratch"' EXIT
  echo "boot-soak: parallel build running (pid $loader) in $scratch" >&2
fi
./build/release/tests/vm/tether-boot-soak "${args[@]}"
