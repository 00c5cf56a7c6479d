#!/usr/bin/env bash
# Runs every tether test on a Debian 12 machine (as root): installs what is
# missing, builds, then runs unit, loopback, package (cpack -G DEB) and VM
# tests (release build), and unit + loopback tests again under ASan+UBSan.
#
#   ./scripts/test.sh            everything (this is what CI runs)
#   TETHER_TEST_SKIP_ASAN=1      skip the sanitizer pass (faster local runs)
#
# VM tests boot real QEMU guests (TCG); they fail loudly if QEMU or the kernel
# is missing — they are never skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

jobs=$(nproc)
echo "==> release build" >&2
cmake --preset release
cmake --build --preset release -j "$jobs"

echo "==> unit, loopback, package and VM tests (release)" >&2
ctest --preset release

if [[ "${TETHER_TEST_SKIP_ASAN:-0}" != 1 ]]; then
  echo "==> ASan+UBSan build: unit and loopback tests" >&2
  cmake --preset asan
  cmake --build --preset asan -j "$jobs" --target tether_unit_tests tether_loopback_tests
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --preset asan -L 'unit|loopback'
fi
echo "==> all tests passed" >&2
