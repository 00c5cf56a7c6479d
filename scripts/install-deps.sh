#!/usr/bin/env bash
# Installs everything tether needs on a fresh Debian 12 machine (run as root).
# Build: compiler, CMake, Boost 1.81 (Asio with cancellation and awaitable
# operators; Boost.JSON), CLI11 (tetherctl), protobuf, libudev, libsystemd,
# GoogleTest; libcrypto (libssl-dev: SHA-256) and libxxhash (XXH64, XXH3) for transfer checks
# (xxhash: xxhsum, independent reference digests for tests); pybind11, Python headers and pytest (python/); dpkg-dev and file for `cpack -G DEB` (dpkg-shlibdeps);
# Clang 14 with its runtime libraries for the libFuzzer targets.
# Guests: QEMU (TCG), the host's Debian kernel, busybox, udev, kmod,
# mmdebstrap and e2fsprogs for the full guest, qemu-guest-agent for
# side-by-side comparisons. libvirt (daemon, virsh, libvirt-dev for --domain, python3-libvirt
# for Ansible's libvirt_qemu) and Ansible: the tests start and stop libvirtd themselves, so the
# install never starts a service (policy-rc.d for the length of the install).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

build_pkgs=(
  build-essential cmake pkg-config ninja-build ccache
  libboost1.81-dev libboost-json1.81-dev  # Boost.JSON as a library: libtether must not compile its sources
  libcli11-dev  # tetherctl's argument parser
  protobuf-compiler libprotobuf-dev
  libudev-dev libsystemd-dev
  libssl-dev libxxhash-dev xxhash  # transfer checksums from standard libraries; xxhsum for reference digests
  libcrypt-dev  # crypt(3): the QGA VM test checks the passwords guest-set-user-password set
  libgtest-dev libgmock-dev
  dpkg-dev file
  dbus-daemon  # loopback tests: a private bus for the agent's D-Bus paths
  pybind11-dev python3-dev python3-pytest  # the Python package (python/) and its tests
  clang-14 libclang-rt-14-dev  # fuzz targets: libFuzzer, ASan, UBSan (scripts/fuzz.sh)
)
guest_pkgs=(
  qemu-system-x86 qemu-utils
  linux-image-amd64 busybox-static udev kmod cpio zstd
  mmdebstrap e2fsprogs
  qemu-guest-agent
  python3
  libssl3 libxxhash0  # the agent's runtime libraries, copied into the initramfs guest
  libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients libvirt-dev python3-libvirt
  ansible  # the tether.guest collection and its comparison with community.libvirt.libvirt_qemu
)

want=("${build_pkgs[@]}")
[[ "${TETHER_SKIP_GUEST_DEPS:-0}" == 1 ]] || want+=("${guest_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  apt-get update -qq
  # No daemon starts at install time (libvirtd): tests start what they need and stop it after.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  trap 'if ((own_policy)); then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The kernel package ships modules under /lib/modules; guests need one of them.
ls /boot/vmlinuz-* >/dev/null 2>&1 || { echo "install-deps: no kernel in /boot after install" >&2; exit 1; }
echo "install-deps: ok" >&2
