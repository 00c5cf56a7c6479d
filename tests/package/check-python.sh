#!/usr/bin/env bash
# The tether Python package installed, not in the build tree: first with
# `cmake --install` into a clean temporary prefix, then from the python3-tether
# .deb (cpack -G DEB, unpacked with dpkg-deb -x). Each time only PYTHONPATH
# points at the installed tree (no build directory on the path, no
# LD_LIBRARY_PATH), and tests/package/installed_python_test.py checks the
# import, the stubs, the dist-info, a call to the installed agent and pytest
# loading the plugin through its entry point.
# With --example it runs the README's example instead
# (python/examples/test_guest_example.py, plugin by its entry point) against
# the build's fast guest, booted by the plugin's tether_vm fixture.
#
#   check-python.sh BUILD_DIR             (ctest: package.python)
#   check-python.sh BUILD_DIR --example   (ctest: vm.python_example_installed)
set -euo pipefail

build=${1:?usage: check-python.sh BUILD_DIR [--example]}
example=${2:-}
[[ -z "$example" || "$example" == --example ]] || { echo "check-python.sh: unknown argument '$example'" >&2; exit 2; }
build=$(cd "$build" && pwd)
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/tether-python-XXXXXX)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
failures=0

if [[ "$example" == --example ]]; then
  tests=("$source_dir/python/examples/test_guest_example.py"
         --tether-kernel "$build/guest/fast/vmlinuz" --tether-initrd "$build/guest/fast/initrd.img")
else
  tests=("$source_dir/tests/package/installed_python_test.py")
fi

# check NAME ROOT PYTHONDIR AGENT: the tests against one installed tree,
# after making sure that `tether` imports from that tree and nowhere else.
# From the empty work dir: `python3 -m` puts the working directory first on
# sys.path, and ctest's is the build tree's python/ (which holds a tether/).
check() {
  echo "==> $1"
  local run=(env -i PATH=/usr/bin:/bin HOME="$work/home" PYTHONPATH="$3" PYTHONDONTWRITEBYTECODE=1
             TETHER_INSTALL_ROOT="$2" TETHER_AGENT_BINARY="$4" TETHER_VERSION="$version"
             TETHER_SOURCE_DIR="$source_dir" TETHER_BUILD_DIR="$build" python3)
  local from
  from=$(cd "$work" && "${run[@]}" -c 'import tether; print(tether.__file__)') || from="(import failed)"
  if [[ "$from" != "$2"/* ]]; then
    echo "FAIL: $1: tether imports from $from, not from $2" >&2; failures=$((failures + 1)); return
  fi
  if (cd "$work" && "${run[@]}" -m pytest -q -p no:cacheprovider --rootdir "$work" "${tests[@]}")
  then echo "ok: $1"
  else echo "FAIL: $1" >&2; failures=$((failures + 1)); fi
}

# (a) cmake --install into a clean prefix. DESTDIR as well: a few files have
# absolute destinations (/etc/tether, the systemd unit directory).
prefix=$work/prefix
DESTDIR=$work/stage cmake --install "$build" --prefix "$prefix" >"$work/install.log"
root=$work/stage$prefix
check "cmake --install --prefix $prefix" "$root" "$root/lib/python3/dist-packages" "$root/sbin/tether-agent"

# (b) the .deb, with the packages it depends on from the same build.
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -D 'CPACK_COMPONENTS_ALL=agent;host;python' \
     -B "$work/debs" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  echo "FAIL: cpack -G DEB failed" >&2
  exit 1
fi
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$work/deb-root"; done
check "python3-tether .deb" "$work/deb-root" "$work/deb-root/usr/lib/python3/dist-packages" \
  "$work/deb-root/usr/sbin/tether-agent"

if ((failures)); then
  echo "$failures installed-package check(s) failed" >&2
  exit 1
fi
echo "all installed-package checks passed"
