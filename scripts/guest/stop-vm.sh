#!/usr/bin/env bash
# Stops a guest started by start-vm.sh: QMP "quit", then SIGKILL if QEMU is
# still there after a few seconds.
#   stop-vm.sh --state DIR
set -euo pipefail
state=""
while (($#)); do
  case "$1" in
    --state) state=$2; shift 2 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "stop-vm: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -n "$state" ]] || { echo "stop-vm: --state is required" >&2; exit 2; }
[[ -f "$state/qemu.pid" ]] || exit 0
pid=$(cat "$state/qemu.pid")
kill -0 "$pid" 2>/dev/null || exit 0
python3 - "$state/qmp.sock" <<'PY' || true
import socket, sys, json
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", "quit"):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush(); f.readline()
PY
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
kill -9 "$pid" 2>/dev/null || true
