#!/usr/bin/env bash
# Defines and starts a libvirt TCG domain (<domain type='qemu'>) on
# qemu:///system from a test guest the tree builds, booted as
# scripts/guest/start-vm.sh boots it (kernel + initrd direct boot, serial
# console to a file), and waits until it answers.
#
#   define-domain.sh --name tether-test-X --guest fast|debian [--build DIR]
#       [--qga-channel] [--qga-socket PATH] [--tether-channel] [--tether-socket PATH]
#       [--extra-xml FILE]... [--append "..."] [--mem MB] [--smp N]
#       [--wait tether|qga|console|none] [--timeout SECONDS]
#
#   --guest        fast: BUILD/guest/fast (initramfs: busybox, udevd, qemu-ga,
#                  tether-agent); debian: BUILD/guest/debian (Debian 12 with
#                  systemd and the tether-agent package), its rootfs.img under a
#                  qcow2 overlay in the state directory (the image stays as it
#                  is; snapshots go to the overlay's directory)
#   --build        the build directory (default: build/release of this tree)
#   --qga-channel  a virtio channel org.qemu.guest_agent.0 (<channel
#                  type='unix'>, the socket path libvirt generates; libvirt
#                  itself connects to it: virsh qemu-agent-command, domfsinfo,
#                  shutdown --mode agent ...). --qga-socket PATH: at PATH.
#   --tether-channel  a virtio channel org.tether.agent.0 (libvirt generates
#                  the path); --tether-socket PATH: at PATH
#   --extra-xml    XML put inside <devices> (disks, interfaces, ...)
#   --append       kernel options after the guest's own
#   --wait         what "answers" means: tether (tetherctl ping on the tether
#                  channel; the default with --tether-channel), qga (guest-ping
#                  through virsh qemu-agent-command; the default with only
#                  --qga-channel), console ("TETHER-GUEST-READY" on the serial
#                  console; the default with neither), none
#   --timeout      seconds to wait (default 300)
#
# Prints, one `key=value` a line: name, state (the domain's directory under
# $TETHER_LIBVIRT_STATE/domains), console (the serial console's log), qga_socket,
# tether_socket (when asked for), disk (debian: the overlay). If the domain
# does not answer in time, or the script is interrupted, it prints the
# console's tail, destroys and undefines the domain and fails: nothing is left
# behind. Afterwards the caller removes it with remove-domain.sh NAME;
# libvirt-daemon.sh stop removes every tether-test-* domain anyway.
#
# Files and the qemu user: libvirt runs QEMU as libvirt-qemu and, with
# dynamic_ownership (Debian's default), chowns what the domain uses to it
# while it runs. The domain gets copies of the kernel and initrd in its state
# directory, and the overlay there; the read-only backing image is marked
# relabel='no' (it needs only to be world-readable, with searchable parent
# directories), so nothing in the build tree changes owner.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
state_root=${TETHER_LIBVIRT_STATE:-/var/tmp/tether-libvirt}/domains
uri=qemu:///system

name="" guest="" build="$repo/build/release" qga=0 qga_path="" tether=0 tether_path=""
extra=() append="" mem="" smp=2 wait="" timeout=300
while (($#)); do
  case "$1" in
    --name) name=$2; shift 2 ;;
    --guest) guest=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --qga-channel) qga=1; shift ;;
    --qga-socket) qga=1; qga_path=$2; shift 2 ;;
    --tether-channel) tether=1; shift ;;
    --tether-socket) tether=1; tether_path=$2; shift 2 ;;
    --extra-xml) extra+=("$2"); shift 2 ;;
    --append) append=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --wait) wait=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    -h|--help) sed -n '2,48p' "$0"; exit 0 ;;
    *) echo "define-domain: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "define-domain: $*" >&2; exit 1; }
[[ $name == tether-test-* ]] || die "--name must start with tether-test- (libvirt-daemon.sh stop removes those)"
[[ $guest == fast || $guest == debian ]] || die "--guest must be fast or debian"
[[ -z "$wait" ]] && { if ((tether)); then wait=tether; elif ((qga)); then wait=qga; else wait=console; fi; }
case "$wait" in
  tether) ((tether)) || die "--wait tether needs --tether-channel" ;;
  qga) ((qga)) || die "--wait qga needs --qga-channel" ;;
  console|none) ;;
  *) die "--wait must be tether, qga, console or none" ;;
esac
src=$build/guest/$guest
for f in vmlinuz initrd.img; do
  [[ -f "$src/$f" ]] || die "$src/$f missing (cmake --build --preset release --target guest-$guest)"
done
tetherctl=$build/host-lib/tetherctl/tetherctl
[[ $wait != tether || -x "$tetherctl" ]] || die "$tetherctl missing (--target tetherctl)"
for x in "${extra[@]}"; do [[ -f "$x" ]] || die "extra XML '$x' not found"; done
virsh_bin=$(type -P virsh) || { echo "$(basename "$0"): virsh missing (libvirt-clients)" >&2; exit 1; }
virsh() { timeout 60 "$virsh_bin" -q -c "$uri" "$@"; }
virsh version >/dev/null 2>&1 || die "libvirtd does not answer on $uri (tests/support/libvirt/libvirt-daemon.sh start)"
if virsh dominfo "$name" >/dev/null 2>&1; then
  die "domain $name exists already (remove-domain.sh $name)"
fi

state=$state_root/$name
rm -rf "$state"
mkdir -p "$state"
# libvirt-qemu must reach the files libvirt gives it in here.
chmod 0755 "$state_root" "$state" "$(dirname "$state_root")"
cp "$src/vmlinuz" "$src/initrd.img" "$state/"
: > "$state/console.log"

. "$repo/scripts/guest/kernel-args.sh"
cmdline=$(guest_base_append "$src/vmlinuz" tcg)
disk_xml=""
if [[ $guest == debian ]]; then
  [[ -f "$src/rootfs.img" ]] || die "$src/rootfs.img missing (--target guest-debian)"
  # QEMU runs as libvirt-qemu and reads the backing image where it lies.
  if id libvirt-qemu >/dev/null 2>&1 && ! runuser -u libvirt-qemu -- test -r "$src/rootfs.img"; then
    die "libvirt-qemu cannot read $src/rootfs.img: make it world-readable and its directories searchable (chmod o+rx)"
  fi
  command -v qemu-img >/dev/null || die "qemu-img missing (package qemu-utils)"
  qemu-img create -q -f qcow2 -F raw -b "$src/rootfs.img" "$state/disk.qcow2"
  cmdline+=" root=/dev/vda rw"
  : "${mem:=1024}"
  disk_xml="    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='unsafe'/>
      <source file='$state/disk.qcow2'/>
      <backingStore type='file'>
        <format type='raw'/>
        <source file='$src/rootfs.img'>
          <seclabel model='dac' relabel='no'/>
        </source>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>"
fi
: "${mem:=512}"
[[ -n "$append" ]] && cmdline+=" $append"

channel_xml() {  # TARGET-NAME [PATH]
  local source="<source mode='bind'/>"
  [[ -n "$2" ]] && source="<source mode='bind' path='$2'/>"
  printf "    <channel type='unix'>\n      %s\n      <target type='virtio' name='%s'/>\n    </channel>\n" "$source" "$1"
}
channels=""
((qga)) && channels+=$(channel_xml org.qemu.guest_agent.0 "$qga_path")$'\n'
((tether)) && channels+=$(channel_xml org.tether.agent.0 "$tether_path")$'\n'
extra_xml=""
for x in "${extra[@]}"; do extra_xml+=$(cat "$x")$'\n'; done

# As start-vm.sh: no reboot (on_reboot destroy = -no-reboot), no default
# devices but the ones a guest needs; TCG (type='qemu') always.
cat > "$state/domain.xml" <<XML
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <vcpu>$smp</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$state/vmlinuz</kernel>
    <initrd>$state/initrd.img</initrd>
    <cmdline>$cmdline</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
$disk_xml
    <serial type='file'>
      <source path='$state/console.log' append='on'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$state/console.log' append='on'/>
      <target type='serial' port='0'/>
    </console>
$channels$extra_xml    <memballoon model='none'/>
  </devices>
</domain>
XML

# From here on the domain is ours to remove on any way out until it answers.
give_up() {
  echo "define-domain: $1; console ($state/console.log):" >&2
  tail -n 40 "$state/console.log" >&2 || true
  echo "define-domain: QEMU's log (/var/log/libvirt/qemu/$name.log):" >&2
  tail -n 10 "/var/log/libvirt/qemu/$name.log" >&2 || true
  "$here/remove-domain.sh" "$name" || true
  exit 1
}
trap 'give_up "interrupted"' INT TERM HUP
virsh define "$state/domain.xml" >/dev/null || give_up "virsh define failed"
virsh start "$name" >/dev/null || give_up "virsh start failed"

# The socket paths libvirt chose (or was given), from the live XML.
socket_of() {
  virsh dumpxml "$name" | python3 -c '
import sys, xml.etree.ElementTree as ET
for ch in ET.parse(sys.stdin).getroot().iter("channel"):
    t = ch.find("target")
    if t is not None and t.get("name") == sys.argv[1]:
        print(ch.find("source").get("path"))' "$1"
}
qga_socket="" tether_socket=""
((qga)) && qga_socket=$(socket_of org.qemu.guest_agent.0)
((tether)) && tether_socket=$(socket_of org.tether.agent.0)

answers() {
  case "$wait" in
    tether) timeout 30 "$tetherctl" --socket "$tether_socket" --timeout 20s ping >/dev/null 2>&1 ;;
    qga) virsh qemu-agent-command "$name" '{"execute":"guest-ping"}' --timeout 5 >/dev/null 2>&1 ;;
    console) grep -q TETHER-GUEST-READY "$state/console.log" 2>/dev/null ;;
    none) true ;;
  esac
}
start_time=$SECONDS
deadline=$((SECONDS + timeout))
until answers; do
  [[ "$(virsh domstate "$name" 2>/dev/null)" == running ]] || give_up "the domain stopped before its guest answered"
  ((SECONDS < deadline)) || give_up "no answer ($wait) within ${timeout}s"
  sleep 0.5  # polling: libvirt reports no "agent ready" to a shell
done
trap - INT TERM HUP
echo "define-domain: $name answers ($wait) after $((SECONDS - start_time)) s" >&2
echo "name=$name"
echo "state=$state"
echo "console=$state/console.log"
((qga)) && echo "qga_socket=$qga_socket"
((tether)) && echo "tether_socket=$tether_socket"
[[ $guest == debian ]] && echo "disk=$state/disk.qcow2"
exit 0
