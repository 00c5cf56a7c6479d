#!/usr/bin/env bash
# The nested demo: the host reaches an L2 guest's agent through its L1's
# agent, with no network anywhere. It builds what it needs, boots L1 (the
# Debian 12 guest with systemd, the tether packages and QEMU) under QEMU,
# has L1 boot its own L2 (the fast test guest, TCG inside TCG) through
# tether exec, then drives L2 from the host with tetherctl --via. Everything
# stops on exit (L2 runs inside L1: stopping L1 ends both), Ctrl-C included.
#
#   scripts/nested-demo.sh [--no-deps]
#
# Slow by nature: under TCG, L2 runs emulated inside an emulated machine
# (L1 boots in about 15 s; L2's kernel in L1 takes minutes). The times are
# printed as it goes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

[[ "${1:-}" == --no-deps ]] || ./scripts/install-deps.sh

echo "==> building tetherctl and the nested L1 guest" >&2
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target tetherctl guest-debian-nested

build=$root/build/release
ctl=$build/host-lib/tetherctl/tetherctl
l1_dir=$build/guest/debian-nested
state=$(mktemp -d /tmp/tether-nested-demo-XXXXXX)
events_pid=""
cleanup() {
  [[ -z "$events_pid" ]] || kill "$events_pid" 2>/dev/null || true
  "$root/scripts/guest/stop-vm.sh" --state "$state" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say() { printf '\n\033[1;34m## %s\033[0m\n' "$*"; }
run() { printf '\033[1m$ %s\033[0m\n' "$*"; "$@"; }

l1=$state/tether.sock                 # L1's chardev socket, on this host
l2=/run/vms/l2/tether.sock            # L2's chardev socket, inside L1
l1ctl() { "$ctl" --socket "$l1" "$@"; }
l2ctl() { "$ctl" --via "$l1" --socket "$l2" "$@"; }

say "Booting L1: Debian 12 with systemd, tether-agent (forward allowed to /run/vms/*/tether.sock) and QEMU"
start=$SECONDS
"$root/scripts/guest/start-vm.sh" --kernel "$l1_dir/vmlinuz" --initrd "$l1_dir/initrd.img" \
  --disk "$l1_dir/rootfs.img" --disk-snapshot --append "root=/dev/vda rw" --mem 2048 \
  --state "$state" --wait-ready 300
echo "L1 booted in $((SECONDS - start)) s"
run "$ctl" --socket "$l1" exec -- hostname

say "L1 boots L2 (tether-l2.service: the fast test guest in QEMU, TCG inside TCG)"
start=$SECONDS
run "$ctl" --socket "$l1" exec -- systemctl start tether-l2
echo "waiting until L2's agent answers through L1 (minutes: L2 is emulated inside an emulated machine)..."
until l2ctl --timeout 30s ping >/dev/null 2>&1; do
  ((SECONDS - start < 1800)) || { echo "L2 did not answer within 30 minutes; its console:" >&2;
                                  l1ctl exec -- tail -n 20 /run/vms/l2/console.log >&2; exit 1; }
  printf '  %4d s: %s\n' $((SECONDS - start)) "$(l1ctl exec -- tail -n 1 /run/vms/l2/console.log | cut -c1-100)"
  sleep 20
done
echo "L2 answered through L1 $((SECONDS - start)) s after systemctl start"

say "The host runs a command in L2, through L1's agent (tetherctl --via L1_SOCKET --socket L2_SOCKET_IN_L1)"
run "$ctl" --via "$l1" --socket "$l2" exec -- hostname
run "$ctl" --via "$l1" --socket "$l2" exec -- sh -c 'for i in 1 2 3; do echo "tick $i from $(hostname)"; sleep 1; done'

say "Round trips: L2 through the route, L1 direct (same connection to L1)"
run "$ctl" --via "$l1" --socket "$l2" ping --count 10
run "$ctl" --socket "$l1" ping --count 10

say "A file up to L2 and back, verified end to end"
head -c $((4 << 20)) /dev/urandom > "$state/blob"
run "$ctl" --via "$l1" --socket "$l2" upload "$state/blob" /tmp/blob
run "$ctl" --via "$l1" --socket "$l2" download /tmp/blob "$state/blob.back"
run sha256sum "$state/blob" "$state/blob.back"
cmp "$state/blob" "$state/blob.back" && echo "equal"

say "L2's udev events, through the route (a change event of /dev/null in L2)"
# L1's chardev serves one host connection at a time, so the event is set up
# first: a command in L2 that triggers it later and keeps running (--keep-running)
# once its tetherctl is gone (killed, not interrupted: an interrupt would
# reach the command).
coproc trigger { exec "$ctl" --via "$l1" --socket "$l2" --timeout 120s exec --keep-running -- \
                   sh -c 'echo armed; sleep 60; udevadm trigger --action=change /sys/class/mem/null'; }
trigger_pid=$trigger_PID
read -r _ <&"${trigger[0]}"  # "armed": the command runs in L2
kill -KILL "$trigger_pid"; wait "$trigger_pid" 2>/dev/null || true
printf '\033[1m$ %s\033[0m\n' "$ctl --via $l1 --socket $l2 events --subsystem mem --sysname null"
exec {events}< <(exec timeout -s INT 180 "$ctl" --via "$l1" --socket "$l2" --timeout 120s \
                   events --subsystem mem --sysname null)
events_pid=$!
# Until the event's line (the events command runs until Ctrl-C).
while read -r line <&"$events"; do
  echo "$line"
  [[ "$line" == *" change mem null "* ]] && break
done
kill -INT "$events_pid" 2>/dev/null || true
exec {events}<&-
events_pid=""

say "Power L2 off through the route (a real poweroff, inside L2) and follow it down"
run "$ctl" --via "$l1" --socket "$l2" power poweroff --wait --wait-timeout 600s
run "$ctl" --socket "$l1" exec -- systemctl is-active tether-l2 || true

say "Done: stopping L1"
