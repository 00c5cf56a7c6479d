#!/usr/bin/env bash
# start-vm.sh --wait-ready, daemonized QEMU: when the guest is not ready in
# time, the script stops QEMU before it fails; nothing of it is left running.
#   start_vm_gives_up.sh KERNEL INITRD
set -euo pipefail
kernel=$1 initrd=$2
state=$(mktemp -d /tmp/tether-start-vm-test-XXXXXX)
trap 'pkill -9 -f "$state" 2>/dev/null || true; rm -rf "$state"' EXIT
rc=0
"$(dirname "$0")/../../scripts/guest/start-vm.sh" --kernel "$kernel" --initrd "$initrd" --state "$state" \
  --wait-ready 1 2>"$state/start.err" || rc=$?
cat "$state/start.err"
[[ $rc == 1 ]] || { echo "FAIL: start-vm.sh exited $rc, expected 1"; exit 1; }
grep -q "guest not ready within 1s" "$state/start.err" || { echo "FAIL: no 'not ready' message"; exit 1; }
if pgrep -f "$state" >/dev/null; then
  echo "FAIL: a QEMU of $state is still running:"; pgrep -af "$state"; exit 1
fi
echo "ok: start-vm.sh gave up and left no QEMU"
