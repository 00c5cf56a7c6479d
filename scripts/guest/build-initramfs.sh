#!/usr/bin/env bash
# Builds the FAST test guest: the host's Debian kernel plus an initramfs with
# busybox, the virtio modules, systemd-udevd, qemu-ga and tether-agent.
# It boots to "TETHER-GUEST-READY" on the serial console in seconds (TCG).
#
#   build-initramfs.sh --agent PATH [--extra-bin PATH]... --out DIR
#
# Writes DIR/vmlinuz and DIR/initrd.img. The result is cached by its inputs
# (this script, the binaries, the kernel, the udev/busybox/qemu-ga package
# versions): a rebuild with nothing changed returns at once.
#
# Guest kernel command line options understood by /init:
#   tether.agent_args="..."   extra arguments for tether-agent
#   tether.udev_subsystems=A,B  coldplug only these udev subsystems (a nested
#                             guest under TCG in TCG: replaying every device's
#                             rules there takes tens of minutes)
set -euo pipefail

agent="" out=""
extras=()
while (($#)); do
  case "$1" in
    --agent) agent=$2; shift 2 ;;
    --extra-bin) extras+=("$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build-initramfs: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$agent" && -n "$out" ]] || { echo "build-initramfs: --agent and --out are required" >&2; exit 2; }
[[ -x "$agent" ]] || { echo "build-initramfs: agent binary '$agent' not found or not executable" >&2; exit 1; }

kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n1 || true)
[[ -n "$kernel" ]] || { echo "build-initramfs: no /boot/vmlinuz-*; run scripts/install-deps.sh (linux-image-amd64)" >&2; exit 1; }
kver=${kernel#/boot/vmlinuz-}
[[ -d /lib/modules/$kver ]] || { echo "build-initramfs: /lib/modules/$kver missing" >&2; exit 1; }
for tool in busybox cpio depmod; do
  command -v "$tool" >/dev/null || [[ -x /bin/$tool || -x /sbin/$tool ]] || {
    echo "build-initramfs: $tool missing; run scripts/install-deps.sh" >&2; exit 1; }
done
udevd=/lib/systemd/systemd-udevd
qga=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
[[ -x "$udevd" ]] || { echo "build-initramfs: $udevd missing (package udev)" >&2; exit 1; }
[[ -x "$qga" ]] || { echo "build-initramfs: qemu-ga missing (package qemu-guest-agent)" >&2; exit 1; }

inputs=$( { sha256sum "$0" "$agent" "${extras[@]}" "$kernel";
            echo "$kver"; dpkg-query -W udev busybox-static qemu-guest-agent passwd libpam-modules 2>/dev/null; } | sha256sum | cut -d' ' -f1)
if [[ -f "$out/inputs.sha256" && "$(cat "$out/inputs.sha256")" == "$inputs" && -f "$out/initrd.img" ]]; then
  echo "build-initramfs: $out is up to date (cached)" >&2
  exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc/udev,proc,sys,dev,run,tmp,root,home/tester,var/log,etc/tether}
ln -s ../run "$root/var/run"  # qemu-ga's default pidfile lives there

# Copies an ELF (or script) and, for an ELF, every shared library it needs
# at the same path inside the guest.
copy_with_libs() {
  local src=$1 dst=$2
  mkdir -p "$root$(dirname "$dst")"
  cp -L "$src" "$root$dst"
  if file -L "$src" 2>/dev/null | grep -q ELF || head -c4 "$src" | grep -q ELF; then
    ldd "$src" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
      [[ -e "$root$lib" ]] && continue
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  fi
}

cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
done

# tether-agent without debug info: the initramfs loads faster.
copy_with_libs "$agent" /usr/bin/tether-agent
strip --strip-debug "$root/usr/bin/tether-agent" 2>/dev/null || true
for e in "${extras[@]}"; do copy_with_libs "$e" "/usr/bin/$(basename "$e")"; done
copy_with_libs "$udevd" /lib/systemd/systemd-udevd
copy_with_libs "$(command -v udevadm || echo /bin/udevadm)" /bin/udevadm
copy_with_libs "$qga" /usr/sbin/qemu-ga
# chpasswd, which guest-set-user-password runs (qemu-ga's and tether's), with
# the PAM stack it sets plain passwords through; /etc/shadow is made below.
copy_with_libs /usr/sbin/chpasswd /usr/sbin/chpasswd
# The modules go where libpam looks (next to libpam in /lib: the guest has no
# merged /usr, so the host's /usr/lib path would not be found).
pamdir=$(dirname "$(find /lib /usr/lib -name pam_unix.so -path '*security*' | head -n1)")
libpam=$(ldd /usr/sbin/chpasswd | grep -oE '/[^ ]*/libpam\.so[^ ]*')
secdir=$(dirname "$libpam")/security
copy_with_libs "$pamdir/pam_unix.so" "$secdir/pam_unix.so"
cp "$pamdir/pam_deny.so" "$pamdir/pam_permit.so" "$root$secdir/"  # no libraries (ldd: "statically linked")
mkdir -p "$root/etc/pam.d"
cp /etc/pam.d/chpasswd /etc/pam.d/common-password "$root/etc/pam.d/"
cp /etc/login.defs "$root/etc/login.defs"

# udev rules and helpers (by-id symlinks, /dev/virtio-ports/NAME).
mkdir -p "$root/lib/udev/rules.d"
cp /lib/udev/rules.d/*.rules "$root/lib/udev/rules.d/"
for helper in /lib/udev/*_id; do
  [[ -x "$helper" ]] && copy_with_libs "$helper" "$helper"
done
[[ -f /lib/udev/hwdb.bin ]] && cp /lib/udev/hwdb.bin "$root/lib/udev/"

# Kernel modules: virtio transport, console (our port), block and net, with
# their dependencies, as modprobe resolves them.
mods=(virtio_pci virtio_console virtio_blk virtio_net)
# Loaded by the tests that need them, not at boot: a loop-mounted ext4 is
# the guest's only freezable filesystem (QGA fsfreeze tests); ext4 needs
# crc32c (a soft dependency modprobe does not list).
ondemand_mods=(loop ext4 crc32c_generic)
mkdir -p "$root/lib/modules/$kver"
for m in "${mods[@]}" "${ondemand_mods[@]}"; do
  modprobe -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'
done | sort -u | while read -r ko; do
  mkdir -p "$root$(dirname "$ko")"
  cp "$ko" "$root$ko"
done
cp /lib/modules/"$kver"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$root" "$kver"
printf '%s\n' "${mods[@]}" > "$root/etc/modules-load"

cp /etc/os-release "$root/etc/os-release" 2>/dev/null || cp /usr/lib/os-release "$root/etc/os-release"
head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$root/etc/machine-id"; echo >> "$root/etc/machine-id"
cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tether test user:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$root/etc/group" <<'GR'
root:x:0:
tester:x:1000:
nogroup:x:65534:
GR
cat > "$root/etc/shadow" <<'SH'
root:*:19000:0:99999:7:::
tester:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
SH
chmod 0640 "$root/etc/shadow"
chown 1000:1000 "$root/home/tester"
echo "tether-guest" > "$root/etc/hostname"

cat > "$root/init" <<'INIT'
#!/bin/sh
# Fast test guest: mount, load modules, start udevd, qemu-ga and tether-agent.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
hostname tether-guest
for m in $(cat /etc/modules-load); do modprobe "$m"; done

/lib/systemd/systemd-udevd --daemon
only=$(sed -n 's/.*tether\.udev_subsystems=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$only" ]; then
  for s in $(echo "$only" | tr , ' '); do udevadm trigger --action=add --subsystem-match="$s"; done
else
  udevadm trigger --action=add --type=subsystems
  udevadm trigger --action=add --type=devices
fi
udevadm settle --timeout=60

agent_args=$(sed -n 's/.*tether\.agent_args="\([^"]*\)".*/\1/p' /proc/cmdline)
# Respawn loops (in the guest, as systemd's Restart= would): a crash shows
# on the console and the service comes back.
( while true; do
    qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0
    echo "qemu-ga exited with status $?; restarting"
    sleep 1
  done ) > /dev/console 2>&1 &
( while true; do
    /usr/bin/tether-agent $agent_args
    echo "tether-agent exited with status $?; restarting"
    sleep 1
  done ) > /dev/console 2>&1 &

echo "TETHER-GUEST-READY" > /dev/console
while true; do sleep 3600; done
INIT
chmod +x "$root/init"

mkdir -p "$out"
cp "$kernel" "$out/vmlinuz"
# Uncompressed: under TCG, decompressing costs more than loading the bytes.
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) > "$out/initrd.img.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
echo "$kver" > "$out/kernel-release"
echo "$inputs" > "$out/inputs.sha256"
echo "build-initramfs: wrote $out/initrd.img ($(du -h "$out/initrd.img" | cut -f1)) for kernel $kver" >&2
