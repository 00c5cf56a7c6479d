#!/usr/bin/env bash
# Runs every tether test on a Debian 12 machine (as root): installs what is
# missing, builds, then runs unit, loopback, package (cpack -G DEB) and VM
# tests (release build), unit + loopback tests again under ASan+UBSan, and
# every libFuzzer target for 15 s from its seed corpus (scripts/fuzz.sh).
#
#   ./scripts/test.sh            everything (this is what CI runs)
#   TETHER_TEST_SKIP_ASAN=1      skip the sanitizer pass (faster local runs)
#   TETHER_TEST_SKIP_FUZZ=1      skip the fuzz pass
#   TETHER_KEEP_VM_STATE=1       keep every guest's state directory (console,
#                                QEMU's output, firmware log) for a look later
#
# Compiles go through ccache when it is installed (install-deps.sh installs
# it; the cache is ~/.cache/ccache, shared by every clone on this machine).
# Every VM boot is logged; the summary at the end counts the boots that
# stalled (console silent) and were retried, so flakiness stays visible.
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
boot_log=build/release/vm-boots.log
: > "$boot_log"
rc=0
ctest --preset release || rc=$?
# One line for all VM suites, and one per boot that needed a retry or failed.
awk '{ n++; for (i = 2; i <= 3; i++) { split($i, kv, "="); v[kv[1]] += kv[2] } }
     $1 == "failed" { f++ } $1 == "failed" || $3 != "stalls=0" { print "    " $0 }
     END { printf "==> VM boots: %d guest(s) in %d attempt(s): %d stalled and retried, %d failed\n",
                  n, v["attempts"], v["stalls"], f }' "$boot_log" >&2
((rc == 0)) || { echo "==> release tests failed" >&2; exit "$rc"; }

if [[ "${TETHER_TEST_SKIP_ASAN:-0}" != 1 ]]; then
  echo "==> ASan+UBSan build: unit and loopback tests" >&2
  cmake --preset asan
  # Everything the preset builds (no bench, no VM tests): the unit, in-process
  # and loopback binaries and what they run, so no unit test is left unbuilt.
  cmake --build --preset asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --preset asan -L 'unit|loopback'
fi
if [[ "${TETHER_TEST_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "==> fuzz targets, 15 s each (clang-14, ASan+UBSan)" >&2
  ./scripts/fuzz.sh -t 15
fi
echo "==> all tests passed in $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2
