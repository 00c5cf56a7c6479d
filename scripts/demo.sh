#!/usr/bin/env bash
# The tether demo: on a fresh Debian 12 machine (as root) it installs what is
# missing, builds everything, builds and boots the fast test guest in QEMU,
# and walks through the main features with tetherctl. The guest is shut down
# at the end (or on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

./scripts/install-deps.sh

echo "==> building tether" >&2
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
cmake --build --preset release --target guest-fast

build=$root/build/release
ctl=$build/host-lib/tetherctl/tetherctl
state=$(mktemp -d /tmp/tether-demo-XXXXXX)
cleanup() {
  "$root/scripts/guest/stop-vm.sh" --state "$state" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

say() { printf '\n\033[1;34m## %s\033[0m\n' "$*"; }
run() { printf '\033[1m$ %s\033[0m\n' "$*"; "$@"; }

say "Booting a guest (host kernel + initramfs with tether-agent, udevd and qemu-ga) under QEMU"
"$root/scripts/guest/start-vm.sh" --kernel "$build/guest/fast/vmlinuz" \
  --initrd "$build/guest/fast/initrd.img" --state "$state" --wait-ready 180
export TETHER_SOCKET=$state/tether.sock
echo "QEMU chardev socket of the guest's org.tether.agent.0 port: $TETHER_SOCKET"

say "Ping: round trips over virtio-serial, no network involved"
run "$ctl" ping --count 50

say "Info: facts about the guest and the agent"
run "$ctl" info
run "$ctl" --json info

for step in "$root"/scripts/demo.d/*.sh; do
  [[ -e "$step" ]] || continue
  # Each feature contributes its own step (sourced: it uses say/run/ctl/state).
  source "$step"
done

say "Done: shutting the guest down"
