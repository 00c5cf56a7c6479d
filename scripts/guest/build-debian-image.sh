#!/usr/bin/env bash
# Builds the FULL test guest: Debian 12 with systemd as PID 1 (mmdebstrap
# from the host's apt sources), booted with the host's kernel and initrd, with
# the tether-agent Debian package installed by dpkg (cpack -G DEB) — so its
# maintainer scripts, udev rule and unit start the agent exactly as on a real
# machine.
#
#   build-debian-image.sh --agent-deb FILE|DIR [--host-deb FILE|DIR]
#                         [--nested-l2 FAST_GUEST_DIR] --out DIR
#
# (A DIR must hold exactly one tether-agent_*.deb, or tether-host_*.deb.)
# With --host-deb the guest also gets tetherctl and the host shutdown unit:
# the power tests let it act as a host at its own shutdown. With --nested-l2
# the guest is an L1 for nested tests: it also gets QEMU, the fast guest of
# FAST_GUEST_DIR (vmlinuz, initrd.img, kernel-release) and tether-l2.service,
# which boots that guest (TCG) with its chardev at /run/vms/l2/tether.sock,
# a socket the agent.conf lets the host forward to. Writes DIR/rootfs.img
# (ext4, sparse), DIR/vmlinuz, DIR/initrd.img and DIR/kernel-release. Boot it:
#   start-vm.sh --kernel DIR/vmlinuz --initrd DIR/initrd.img --disk DIR/rootfs.img \
#               --append "root=/dev/vda rw" --mem 1024 --wait-ready 300
# The base system is cached by its package list (in ~/.cache/tether, shared
# by all clones); the image by all inputs: a rebuild with nothing changed
# returns at once.
set -euo pipefail

deb="" host_deb="" l2="" out=""
while (($#)); do
  case "$1" in
    --agent-deb) deb=$2; shift 2 ;;
    --host-deb) host_deb=$2; shift 2 ;;
    --nested-l2) l2=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "build-debian-image: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$deb" && -n "$out" ]] || { echo "build-debian-image: --agent-deb and --out are required" >&2; exit 2; }
# find_deb PACKAGE FILE|DIR: the .deb of PACKAGE given or found in DIR.
find_deb() {
  local name=$1 d=$2
  if [[ -d "$d" ]]; then
    local found=("$d/${name}"_*.deb)
    ((${#found[@]} == 1)) && [[ -f "${found[0]}" ]] ||
      { echo "build-debian-image: $d must hold exactly one ${name}_*.deb" >&2; exit 1; }
    d=${found[0]}
  fi
  [[ "$(dpkg-deb -f "$d" Package 2>/dev/null)" == "$name" ]] ||
    { echo "build-debian-image: $d is not a $name package (cpack -G DEB in the build dir)" >&2; exit 1; }
  echo "$d"
}
deb=$(find_deb tether-agent "$deb")
[[ -z "$host_deb" ]] || host_deb=$(find_deb tether-host "$host_deb")
l2_files=()
if [[ -n "$l2" ]]; then
  l2_files=("$l2/vmlinuz" "$l2/initrd.img" "$l2/kernel-release")
  for f in "${l2_files[@]}"; do
    [[ -f "$f" ]] || { echo "build-debian-image: $f missing (build the fast guest: target guest-fast)" >&2; exit 1; }
  done
fi
for tool in mmdebstrap mkfs.ext4 depmod dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "build-debian-image: $tool missing; run scripts/install-deps.sh" >&2; exit 1; }
done
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1 || true)
[[ -n "$kernel" ]] || { echo "build-debian-image: no /boot/vmlinuz-*; run scripts/install-deps.sh" >&2; exit 1; }
kver=${kernel#/boot/vmlinuz-}
initrd=/boot/initrd.img-$kver
[[ -f "$initrd" ]] || { echo "build-debian-image: $initrd missing" >&2; exit 1; }
mkdir -p "$out"

# Base system: systemd, udev, D-Bus (logind/power), qemu-ga for comparisons,
# python3 (Ansible's modules run in the guest: tests/ansible/),
# hwclock (util-linux-extra: QGA guest-set-time, virsh domtime --sync),
# and the runtime libraries of the agent and of tether-host (libtether links
# Boost.JSON, libvirt and libxml2 for libvirt domains; both hash transfers
# with libcrypto and libxxhash).
packages=systemd,systemd-sysv,udev,dbus,kmod,qemu-guest-agent,util-linux-extra,libprotobuf32,libudev1,libsystemd0,libboost-json1.81.0,libssl3,libxxhash0,procps,python3,libvirt0,libxml2
# An L1 runs its L2 in QEMU (another base, cached by its own package list).
[[ -z "$l2" ]] || packages+=,qemu-system-x86
base_key=$(echo "bookworm minbase $packages" | sha256sum | cut -d' ' -f1)
# The base lives outside the build tree (every clone on this machine shares
# it), named by its key; TETHER_CACHE_DIR moves it.
cache=${TETHER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tether}
base=$cache/debian-base-$base_key.tar
if [[ ! -f "$base" ]]; then
  echo "build-debian-image: mmdebstrap bookworm (about a minute)..." >&2
  mkdir -p "$cache"
  tmp_base=$(mktemp -d "$cache/debian-base-new-XXXXXX")
  # (mmdebstrap picks the output format from the file name's extension)
  mmdebstrap --quiet --variant=minbase --include="$packages" bookworm "$tmp_base/base.tar" ||
    { rm -rf "$tmp_base"; exit 1; }
  mv "$tmp_base/base.tar" "$base"
  rmdir "$tmp_base"
fi

root=$(mktemp -d)
pkg=$(mktemp -d)
trap 'rm -rf "$root" "$pkg"' EXIT
# The package's contents and control files, not the .deb itself: cpack stamps
# each build with the current time, which would defeat the cache.
dpkg-deb -R "$deb" "$pkg/agent"
[[ -z "$host_deb" ]] || dpkg-deb -R "$host_deb" "$pkg/host"
vm_scripts=("$(dirname "$0")/start-vm.sh" "$(dirname "$0")/stop-vm.sh")
inputs=$( { echo "$base_key $kver"; sha256sum "$0" "$kernel" "$initrd";
            [[ -z "$l2" ]] || sha256sum "${l2_files[@]}" "${vm_scripts[@]}";
            (cd "$pkg" && find . -type f -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -d' ' -f1)
if [[ -f "$out/inputs.sha256" && "$(cat "$out/inputs.sha256")" == "$inputs" && -f "$out/rootfs.img" ]]; then
  echo "build-debian-image: $out is up to date (cached)" >&2
  exit 0
fi

tar -C "$root" -xf "$base"

# The host's kernel boots the guest: give it the modules udev will load
# (virtio console, block, net; ACPI button + evdev for QMP system_powerdown:
# logind only sees the power button through /dev/input/event*) and their dependencies.
for m in virtio_pci virtio_console virtio_blk virtio_net button evdev; do
  modprobe -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
done | sort -u | while read -r ko; do
  mkdir -p "$root$(dirname "$ko")"
  cp "$ko" "$root$ko"
done
cp /lib/modules/"$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$root" "$kver"

# The agent as users get it: dpkg runs the maintainer scripts, which must work
# in a chroot without systemd or udevd (they leave starting to the boot).
cp "$deb" "$root/tmp/tether-agent.deb"
chroot "$root" dpkg -i /tmp/tether-agent.deb >&2
rm "$root/tmp/tether-agent.deb"
if [[ -n "$host_deb" ]]; then
  cp "$host_deb" "$root/tmp/tether-host.deb"
  chroot "$root" dpkg -i /tmp/tether-host.deb >&2
  rm "$root/tmp/tether-host.deb"
fi

if [[ -n "$l2" ]]; then
  echo tether-l1 > "$root/etc/hostname"
  # L2 boots with the scripts the host's tests use (start-vm.sh: TCG, the
  # timing hints a kernel needs under TCG, chardevs in one state directory).
  mkdir -p "$root/usr/local/lib/tether" "$root/var/lib/tether/l2"
  cp "${vm_scripts[@]}" "$root/usr/local/lib/tether/"
  cp "${l2_files[@]}" "$root/var/lib/tether/l2/"
  # Not enabled: whoever drives L1 starts L2 (systemctl start tether-l2), so
  # L1's boot and L2's can be told apart. QEMU in the foreground is the
  # service's main process: stopping the unit ends it.
  cat > "$root/etc/systemd/system/tether-l2.service" <<'UNIT'
[Unit]
Description=Nested test guest L2 (the fast test guest in QEMU, TCG)

[Service]
ExecStart=/usr/local/lib/tether/start-vm.sh --kernel /var/lib/tether/l2/vmlinuz --initrd /var/lib/tether/l2/initrd.img --state /run/vms/l2 --mem 512 --smp 1 --append tether.udev_subsystems=virtio-ports --foreground
UNIT
  # The host reaches L2's agent through this agent's forward service.
  sed -i 's|^#sockets = /run/vms/\*/tether.sock$|sockets = /run/vms/*/tether.sock|' "$root/etc/tether/agent.conf"
  grep -q '^sockets = /run/vms/\*/tether.sock$' "$root/etc/tether/agent.conf" ||
    { echo "build-debian-image: agent.conf has no forward.sockets example to enable" >&2; exit 1; }
else
  echo tether-debian > "$root/etc/hostname"
fi
echo "/dev/vda / ext4 defaults 0 1" > "$root/etc/fstab"
: > "$root/etc/machine-id"  # systemd makes one at first boot
chroot "$root" passwd -d root >/dev/null
chroot "$root" useradd -m -u 1000 -s /bin/sh tester
# Marks the end of boot on the serial console for start-vm.sh --wait-ready.
cat > "$root/etc/systemd/system/tether-ready.service" <<'UNIT'
[Unit]
Description=Report boot completion on the serial console (tether tests)
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo TETHER-GUEST-READY > /dev/ttyS0'

[Install]
WantedBy=multi-user.target
UNIT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf ../tether-ready.service "$root/etc/systemd/system/multi-user.target.wants/tether-ready.service"

rm -f "$out/rootfs.img"
truncate -s 2G "$out/rootfs.img"
mkfs.ext4 -q -F -L tether-root -d "$root" "$out/rootfs.img"
cp "$kernel" "$out/vmlinuz"
cp "$initrd" "$out/initrd.img"
echo "$kver" > "$out/kernel-release"
echo "$inputs" > "$out/inputs.sha256"
echo "build-debian-image: wrote $out/rootfs.img for kernel $kver" >&2
