#!/usr/bin/env bash
# Builds the Debian packages of a finished build with `cpack -G DEB` into a
# temp dir and checks them: each package has its files (and no other
# package's), the conffile, maintainer scripts and dependencies; the packaged
# agent accepts the packaged config; and a program builds and runs against
# tether-host + tether-dev through both find_package(tether) and pkg-config.
#
#   check-debs.sh BUILD_DIR        (ctest: package.debs)
set -euo pipefail

build=${1:?usage: check-debs.sh BUILD_DIR}
build=$(cd "$build" && pwd)
work=$(mktemp -d /tmp/tether-debs-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  echo "FAIL: cpack -G DEB failed" >&2
  exit 1
fi

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")-1
arch=$(dpkg --print-architecture)
mapfile -t debs < <(cd "$work/out" && ls -1 ./*.deb | sed 's|^\./||')
# python3-tether when the build has the Python package (TETHER_BUILD_PYTHON).
comps=(agent host dev)
expected=()
if grep -q '^set(CPACK_COMPONENTS_ALL ".*python.*")$' "$build/CPackConfig.cmake"; then
  comps+=(python)
  expected+=("python3-tether_${version}_${arch}.deb")
fi
expected+=("tether-agent_${version}_${arch}.deb" "tether-dev_${version}_${arch}.deb" "tether-host_${version}_${arch}.deb")
if [[ "${debs[*]}" == "${expected[*]}" ]]; then pass "${#debs[@]} packages: ${debs[*]}"; else fail "packages are '${debs[*]}', expected '${expected[*]}'"; fi

# Component -> package name.
pkg() { if [[ $1 == python ]]; then echo python3-tether; else echo "tether-$1"; fi; }
deb() { echo "$work/out/$1_${version}_${arch}.deb"; }
for p in "${comps[@]}"; do
  [[ -f "$(deb "$(pkg $p)")" ]] || { echo "FAIL: no $(pkg $p) package; stopping" >&2; exit 1; }
  # "TYPE PATH" per entry: f file, l symlink, d directory.
  dpkg-deb -c "$(deb "$(pkg $p)")" | awk '{t=substr($1,1,1); if (t=="-") t="f"; print t, $6}' >"$work/$p.list"
  dpkg-deb -f "$(deb "$(pkg $p)")" >"$work/$p.control"
  mkdir -p "$work/$p.ctrl" "$work/$p.root"
  dpkg-deb -e "$(deb "$(pkg $p)")" "$work/$p.ctrl"
  dpkg-deb -x "$(deb "$(pkg $p)")" "$work/$p.root"
done

# has PKG TYPE REGEX: the package has an entry of that type whose path matches.
has() { grep -Eq "^$2 $3\$" "$work/$1.list"; }
expect_has() { if has "$@"; then pass "$(pkg $1) has $3"; else fail "$(pkg $1) lacks $3 ($2)"; fi; }
expect_not() { if grep -Eq "^[fl] $2\$" "$work/$1.list"; then fail "$(pkg $1) must not ship $2: $(grep -E "^[fl] $2\$" "$work/$1.list" | head -3 | tr '\n' ' ')"; else pass "$(pkg $1) ships no $2"; fi; }

# tether-agent
expect_has agent f '\./usr/sbin/tether-agent'
expect_has agent f '\./(usr/)?lib/systemd/system/tether-agent\.service'
expect_has agent f '\./(usr/)?lib/udev/rules\.d/70-tether-agent\.rules'
expect_has agent f '\./etc/tether/agent\.conf'
expect_has agent d '\./etc/tether/host-halt\.d/'
expect_not agent '\./usr/(bin|include)/.*'
expect_not agent '.*libtether.*'
# tether-host
expect_has host f '\./usr/bin/tetherctl'
expect_has host f '\./usr/bin/tetherd'
expect_has host f '\./(usr/)?lib/systemd/system/tetherd\.service'
expect_has host f '\./(usr/)?lib/systemd/system/tetherd-guest@\.socket'
expect_has host l '\./usr/lib/([^/]+/)?libtether\.so\.[0-9]+'
expect_has host f '\./usr/lib/([^/]+/)?libtether\.so\.[0-9]+\.[0-9]+\.[0-9]+'
expect_not host '.*/libtether\.so'
expect_not host '\./usr/(sbin|include)/.*'
expect_not host '.*\.a'
# The Ansible collection tether.guest, where Ansible looks by default.
collection='\./usr/share/ansible/collections/ansible_collections/tether/guest'
if [[ -d "$build/ansible/collections" ]]; then
  expect_has host f "$collection/plugins/connection/tether\.py"
  expect_has host f "$collection/MANIFEST\.json"
fi
# tether-dev
expect_has dev f '\./usr/include/tether/client\.hpp'
expect_has dev f '\./usr/include/tether/wire/codec\.hpp'
expect_has dev f '\./usr/include/tether/v1/frame\.pb\.h'
expect_has dev f '\./usr/lib/([^/]+/)?cmake/tether/tetherConfig\.cmake'
expect_has dev f '\./usr/lib/([^/]+/)?cmake/tether/tetherConfigVersion\.cmake'
expect_has dev f '\./usr/lib/([^/]+/)?cmake/tether/tetherTargets\.cmake'
expect_has dev f '\./usr/lib/([^/]+/)?pkgconfig/tether\.pc'
expect_has dev l '\./usr/lib/([^/]+/)?libtether\.so'
expect_has dev f '\./usr/lib/([^/]+/)?libtether_proto\.a'
expect_not dev '\./usr/s?bin/.*'
expect_not dev '.*/libtether\.so\.[0-9.]+'
# python3-tether: the package, its stubs and the dist-info pytest finds the
# plugin through (tests/package/check-python.sh runs it installed).
if [[ " ${comps[*]} " == *" python "* ]]; then
  py='\./usr/lib/python3/dist-packages'
  expect_has python f "$py/tether/__init__\.py"
  expect_has python f "$py/tether/_tether\.cpython-[0-9]+-[^/]+\.so"
  expect_has python f "$py/tether/_tether\.pyi"
  expect_has python f "$py/tether/py\.typed"
  expect_has python f "$py/tether-${version%-*}\.dist-info/METADATA"
  expect_has python f "$py/tether-${version%-*}\.dist-info/entry_points\.txt"
  expect_not python '.*libtether.*'
  expect_not python '\./usr/(s?bin|include)/.*'
fi

# No file in two packages (dpkg would refuse to install both).
dups=$(for p in "${comps[@]}"; do cat "$work/$p.list"; done | awk '$1!="d"{print $2}' | sort | uniq -d)
if [[ -z "$dups" ]]; then pass "no file is in two packages"; else fail "files in two packages: $dups"; fi

# Control fields.
field() { sed -n "s/^$2: //p" "$work/$1.control"; }
for p in "${comps[@]}"; do
  [[ "$(field $p Package)" == "$(pkg $p)" ]] || fail "$(pkg $p): Package is '$(field $p Package)'"
  [[ "$(field $p Version)" == "$version" ]] || fail "$(pkg $p): Version is '$(field $p Version)', expected $version"
done
expect_dep() {
  if [[ ", $(field "$1" Depends), " == *", $2"* ]]; then pass "$(pkg $1) depends on $2"
  else fail "$(pkg $1) Depends '$(field "$1" Depends)' lacks $2"; fi
}
# dpkg-shlibdeps ran: the libraries the binaries link.
for lib in libc6 libstdc++6 libprotobuf32 libudev1 libsystemd0; do expect_dep agent "$lib"; done
for lib in libc6 libstdc++6 libprotobuf32; do expect_dep host "$lib"; done
expect_dep dev "tether-host (= $version)"
expect_dep dev "libprotobuf-dev"
expect_dep dev "libboost1.81-dev"
if [[ " ${comps[*]} " == *" python "* ]]; then
  expect_dep python "tether-host (= $version)"
  # Debian's python3 package, whose interpreter is /usr/bin/python3.
  pyver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  expect_dep python "python3 (>= $pyver~)"
  expect_dep python "libstdc++6"
fi

# Conffiles: every file a package puts under /etc is one (so dpkg keeps an
# admin's edits), and the agent's default config is among them.
for p in "${comps[@]}"; do
  conffiles=$(sort "$work/$p.ctrl/conffiles" 2>/dev/null || true)
  etc_files=$(awk '$1=="f" && $2 ~ /^\.\/etc\// {print substr($2,2)}' "$work/$p.list" | sort)
  if [[ "$etc_files" == "$conffiles" ]]; then pass "$(pkg $p) conffiles: ${conffiles:-none}"
  else fail "$(pkg $p) conffiles '$conffiles' differ from its files under /etc '$etc_files'"; fi
done
grep -qx /etc/tether/agent.conf "$work/agent.ctrl/conffiles" 2>/dev/null || fail "/etc/tether/agent.conf is not a conffile"

# Maintainer scripts: present, executable, valid sh.
scripts=(agent/postinst agent/prerm agent/postrm host/postinst host/postrm)
if [[ " ${comps[*]} " == *" python "* ]]; then scripts+=(python/postinst python/prerm); fi
for s in "${scripts[@]}"; do
  f="$work/${s%%/*}.ctrl/${s##*/}"
  if [[ -x "$f" ]] && sh -n "$f"; then pass "$(pkg "${s%%/*}") ${s##*/} is an executable sh script"
  else fail "$(pkg "${s%%/*}") ${s##*/} missing, not executable or not valid sh"; fi
done
if [[ " ${comps[*]} " == *" python "* ]]; then
  grep -q 'py3compile -p python3-tether' "$work/python.ctrl/postinst" || fail "python3-tether postinst does not byte-compile"
  grep -q 'py3clean -p python3-tether' "$work/python.ctrl/prerm" || fail "python3-tether prerm does not clean up"
fi
grep -q 'udevadm trigger --subsystem-match=virtio-ports --action=add' "$work/agent.ctrl/postinst" ||
  fail "agent postinst does not trigger virtio-ports"
if grep -qx 'activate-noawait ldconfig' "$work/host.ctrl/triggers" 2>/dev/null; then pass "tether-host runs ldconfig"
else fail "tether-host has no ldconfig trigger"; fi
# Beside qemu-guest-agent (README "Replacing qemu-guest-agent"): no
# conflict, and a trigger that restarts the agent when qemu-ga comes or goes.
if grep -qx 'interest-noawait /usr/sbin/qemu-ga' "$work/agent.ctrl/triggers" 2>/dev/null &&
   grep -q '^  triggered)' "$work/agent.ctrl/postinst"; then pass "tether-agent follows qemu-ga's installation (trigger)"
else fail "tether-agent has no trigger on /usr/sbin/qemu-ga handled by its postinst"; fi
if grep -Eq "^(Conflicts|Replaces|Breaks):.*qemu-guest-agent" "$work/agent.ctrl/control"
then fail "tether-agent conflicts with qemu-guest-agent: it must install beside it"
else pass "tether-agent installs beside qemu-guest-agent"; fi
if grep -Eq '^libtether [0-9]+ tether-host ' "$work/host.ctrl/shlibs" 2>/dev/null; then pass "tether-host shlibs: $(cat "$work/host.ctrl/shlibs")"
else fail "tether-host shlibs missing or wrong"; fi

# ansible-doc finds the packaged collection and shows the plugin's documentation.
if [[ -d "$build/ansible/collections" ]] && command -v ansible-doc >/dev/null; then
  if doc=$(ANSIBLE_COLLECTIONS_PATH="$work/host.root/usr/share/ansible/collections" \
           ansible-doc -t connection tether.guest.tether 2>&1) && grep -q 'ansible_tether_socket' <<<"$doc"
  then pass "ansible-doc -t connection tether.guest.tether shows the packaged plugin's options"
  else fail "ansible-doc does not show the packaged tether.guest.tether: $doc"; fi
fi

# The unit starts the binary the package installs.
unit=$(find "$work/agent.root" -name tether-agent.service | head -1)
if grep -q '^ExecStart=/usr/sbin/tether-agent ' "$unit"; then pass "unit ExecStart is /usr/sbin/tether-agent"
else fail "unit ExecStart: $(grep ExecStart "$unit")"; fi

# The packaged agent accepts the packaged config (and reads it by default
# from /etc/tether/agent.conf: its --help names that path).
if out=$("$work/agent.root/usr/sbin/tether-agent" --config "$work/agent.root/etc/tether/agent.conf" --check-config 2>&1)
then pass "packaged agent: $out"; else fail "packaged agent rejects the packaged config: $out"; fi
# (The help is read whole first: `grep -q` in a pipe quits at its match, and
# under pipefail the agent's SIGPIPE on the lines after it failed the check.)
agent_help=$("$work/agent.root/usr/sbin/tether-agent" --help)
if grep -q -- '--config PATH .*(default /etc/tether/agent.conf' <<<"$agent_help"
then pass "packaged agent reads /etc/tether/agent.conf by default"
else fail "packaged agent's default config is not /etc/tether/agent.conf"; fi

# A program builds against tether-host + tether-dev and runs.
root="$work/sdk"
mkdir -p "$root" "$work/consumer"
dpkg-deb -x "$(deb tether-host)" "$root"
dpkg-deb -x "$(deb tether-dev)" "$root"
libdir=$(dirname "$(find "$root" -name 'libtether.so.*' | head -1)")
cat >"$work/consumer/main.cpp" <<'CPP'
#include <boost/asio/io_context.hpp>
#include <iostream>
#include "tether/client.hpp"
int main() {
  boost::asio::io_context ctx;
  tether::client c(ctx.get_executor(), {.socket_path = "/nonexistent/tether.sock"});
  tether::hello_info hello;
  hello.software_version = "consumer";
  std::cout << hello.software_version << (c.connected() ? " connected" : " ok") << "\n";
}
CPP
cat >"$work/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(tether REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE tether::tether)
CMAKE
if cmake -S "$work/consumer" -B "$work/consumer/b" -DCMAKE_PREFIX_PATH="$root/usr" >"$work/consumer.log" 2>&1 &&
   cmake --build "$work/consumer/b" >>"$work/consumer.log" 2>&1 &&
   [[ "$(LD_LIBRARY_PATH=$libdir "$work/consumer/b/consumer")" == "consumer ok" ]]; then
  pass "find_package(tether) consumer builds and runs"
else
  cat "$work/consumer.log" >&2
  fail "find_package(tether) consumer"
fi
pc_flags=$(PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs tether 2>&1) ||
  fail "pkg-config tether: $pc_flags"
# shellcheck disable=SC2086
if g++ "$work/consumer/main.cpp" -o "$work/pc-consumer" $pc_flags 2>"$work/pc.log" &&
   [[ "$(LD_LIBRARY_PATH=$libdir "$work/pc-consumer")" == "consumer ok" ]]; then
  pass "pkg-config consumer builds and runs ($pc_flags)"
else
  cat "$work/pc.log" >&2
  fail "pkg-config consumer"
fi

if ((failures)); then
  echo "$failures package check(s) failed" >&2
  exit 1
fi
echo "all package checks passed"
