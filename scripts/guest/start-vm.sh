#!/usr/bin/env bash
# Starts a test guest under QEMU with everything a test needs in one state
# directory:
#   qmp.sock      QMP monitor
#   tether.sock   chardev of virtio-serial port org.tether.agent.0 (id tetherport)
#   qga.sock      chardev of org.qemu.guest_agent.0 (qemu-ga, for comparisons)
#   raw.sock      chardev of org.tether.raw.0 (spare port: raw channel speed)
#   console.log   serial console (the kernel's own messages from its first
#                 line: earlyprintk, no "quiet");  qemu.pid
#   firmware.log  SeaBIOS's debug output (where a boot stops before Linux)
#
#   start-vm.sh --kernel F --initrd F --state DIR [--append "..."] [--mem MB]
#               [--smp N] [--disk IMG [--disk-snapshot]] [--allow-reboot]
#               [--wait-ready SECONDS | --foreground] [--qemu-arg ARG]...
#
# By default QEMU is daemonized and the script returns; the caller stops it
# with stop-vm.sh. --foreground execs QEMU instead (it is then the caller's
# child: the test fixtures own it that way, so it dies with them).
# --disk-snapshot keeps the image unchanged (writes go to a throwaway
# overlay that lives as long as QEMU, across guest reboots).
# Uses KVM only when the CPU has vmx/svm and /dev/kvm works; TCG otherwise.
# --wait-ready waits for "TETHER-GUEST-READY" on the console; if QEMU exits,
# the deadline passes or the script is interrupted, it stops QEMU and fails
# with the console tail: no QEMU is left behind.
set -euo pipefail

kernel="" initrd="" state="" append="" mem=512 smp=2 disk="" snapshot="" wait_ready="" reboot=(-no-reboot) foreground=0 extra=()
while (($#)); do
  case "$1" in
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --state) state=$2; shift 2 ;;
    --append) append=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --disk) disk=$2; shift 2 ;;
    --disk-snapshot) snapshot=",snapshot=on"; shift ;;
    --allow-reboot) reboot=(); shift ;;
    --wait-ready) wait_ready=$2; shift 2 ;;
    --foreground) foreground=1; shift ;;
    --qemu-arg) extra+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "start-vm: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$kernel" && -n "$initrd" && -n "$state" ]] || { echo "start-vm: --kernel, --initrd and --state are required" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "start-vm: qemu-system-x86_64 not found; run scripts/install-deps.sh" >&2; exit 1; }
[[ -f "$kernel" ]] || { echo "start-vm: kernel '$kernel' not found" >&2; exit 1; }
[[ -f "$initrd" ]] || { echo "start-vm: initrd '$initrd' not found" >&2; exit 1; }
[[ $foreground == 0 || -z "$wait_ready" ]] || { echo "start-vm: --foreground and --wait-ready exclude each other" >&2; exit 2; }
mkdir -p "$state"
rm -f "$state"/{qmp,tether,qga,raw}.sock "$state/qemu.pid"
# Truncated, not removed: a caller may already watch this file.
: > "$state/console.log"
: > "$state/firmware.log"

. "$(dirname "$0")/kernel-args.sh"
accel=$(guest_accel)

port() {  # chardev socket + virtserialport
  echo -chardev "socket,id=$1,path=$state/$2.sock,server=on,wait=off" \
       -device "virtserialport,bus=vser0.0,chardev=$1,name=$3,id=$4"
}
disk_args=()
[[ -n "$disk" ]] && disk_args=(-drive "if=none,id=rootdisk,file=$disk,format=raw,cache=unsafe$snapshot" -device virtio-blk-pci,drive=rootdisk)

base_append=$(guest_base_append "$kernel" "$accel")
qemu=(
  qemu-system-x86_64
  -M pc -accel "$accel" -m "$mem" -smp "$smp"
  -nodefaults -no-user-config -display none "${reboot[@]}"
  -kernel "$kernel" -initrd "$initrd"
  -append "$base_append $append"
  -serial "file:$state/console.log"
  -chardev "file,id=firmware,path=$state/firmware.log" -device isa-debugcon,iobase=0x402,chardev=firmware
  -qmp "unix:$state/qmp.sock,server=on,wait=off"
  -device virtio-serial-pci,id=vser0
  $(port tether0 tether org.tether.agent.0 tetherport)
  $(port qga0 qga org.qemu.guest_agent.0 qgaport)
  $(port raw0 raw org.tether.raw.0 rawport)
  "${disk_args[@]}"
  -pidfile "$state/qemu.pid"
  "${extra[@]}"
)
((foreground)) && exec "${qemu[@]}"
"${qemu[@]}" -daemonize

[[ -z "$wait_ready" ]] && exit 0
pid=$(cat "$state/qemu.pid")
# Until the guest is ready, QEMU is ours to stop on any way out.
give_up() {
  echo "start-vm: $1; console:" >&2
  tail -n 40 "$state/console.log" >&2 || true
  "$(dirname "$0")/stop-vm.sh" --state "$state" || kill -9 "$pid" 2>/dev/null || true
  exit 1
}
trap 'give_up "interrupted"' INT TERM HUP
deadline=$((SECONDS + wait_ready))
while ! grep -q "TETHER-GUEST-READY" "$state/console.log" 2>/dev/null; do
  kill -0 "$pid" 2>/dev/null || give_up "QEMU exited before the guest was ready"
  ((SECONDS < deadline)) || give_up "guest not ready within ${wait_ready}s"
  sleep 0.2  # polling a log file: there is nothing to wait on
done
trap - INT TERM HUP
echo "start-vm: guest ready (state in $state)" >&2
