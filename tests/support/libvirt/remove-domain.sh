#!/usr/bin/env bash
# Removes a test domain define-domain.sh made: destroys it (if it runs),
# undefines it with its snapshots' metadata, and deletes its state directory
# and QEMU's log. Succeeds when the domain is already gone.
#
#   remove-domain.sh NAME
set -euo pipefail

name=${1:-}
[[ $name == tether-test-* ]] || { echo "remove-domain: usage: remove-domain.sh tether-test-NAME" >&2; exit 2; }
uri=qemu:///system
virsh_bin=$(type -P virsh) || { echo "$(basename "$0"): virsh missing (libvirt-clients)" >&2; exit 1; }
virsh() { timeout 60 "$virsh_bin" -q -c "$uri" "$@"; }
ok=0
if virsh dominfo "$name" >/dev/null 2>&1; then
  [[ "$(virsh domstate "$name" 2>/dev/null)" == "shut off" ]] || virsh destroy "$name" >/dev/null 2>&1 || true
  virsh undefine "$name" --snapshots-metadata >/dev/null || ok=$?
fi
rm -rf "${TETHER_LIBVIRT_STATE:-/var/tmp/tether-libvirt}/domains/$name"
rm -f "/var/log/libvirt/qemu/$name.log"
((ok == 0)) || { echo "remove-domain: could not undefine $name" >&2; exit 1; }
