#!/usr/bin/env bash
# The libvirt daemons the libvirt VM tests need (Debian 12's libvirtd and
# virtlogd for qemu:///system), started without systemd and stopped after.
#
#   libvirt-daemon.sh start   starts virtlogd and libvirtd as daemons (pidfiles
#                             in the state directory) unless they already run,
#                             and waits until `virsh -c qemu:///system version`
#                             answers (60 s at most)
#   libvirt-daemon.sh stop    destroys and undefines every domain named
#                             tether-test-*, removes their state directories
#                             (define-domain.sh) and stops the daemons start
#                             started; a daemon it did not start stays
#   libvirt-daemon.sh status  says whether libvirtd answers
#
# Both are idempotent; ctest runs them as the fixture `libvirt` (tests
# vm.libvirt_start / vm.libvirt_stop). Several test runs may share the
# daemons: each start registers its caller (TETHER_LIBVIRT_USER, default the
# parent process: ctest), each stop unregisters it, and only the last one
# (callers that died no longer count) destroys the domains and stops the
# daemons. The daemons log warnings and errors to STATE/libvirtd.log and
# STATE/virtlogd.log. Must run as root (qemu:///system).
#
# Environment: TETHER_LIBVIRT_STATE (default /var/tmp/tether-libvirt).
set -euo pipefail

state=${TETHER_LIBVIRT_STATE:-/var/tmp/tether-libvirt}
uri=qemu:///system
user=${TETHER_LIBVIRT_USER:-$PPID}

die() { echo "libvirt-daemon: $*" >&2; exit 1; }
answers() { timeout 10 virsh -c "$uri" version >/dev/null 2>&1; }
running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_daemon NAME: ends the daemon whose pidfile we wrote (TERM, then KILL).
stop_daemon() {
  local pidfile=$state/$1.pid pid
  [[ -f "$pidfile" ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "libvirt-daemon: $1 ($pid) ignored SIGTERM for 30 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

# Callers still registered whose process lives.
live_users() {
  local f
  for f in "$state"/users/*; do
    [[ -e "$f" ]] || continue
    if kill -0 "$(basename "$f")" 2>/dev/null; then basename "$f"; else rm -f "$f"; fi
  done
}

# Every tether-test-* domain: destroyed, undefined, its files removed.
remove_test_domains() {
  local name
  answers || return 0
  for name in $(timeout 30 virsh -c "$uri" list --all --name 2>/dev/null | grep '^tether-test-' || true); do
    "$(dirname "$0")/remove-domain.sh" "$name" && echo "libvirt-daemon: removed domain $name" >&2
  done
  rm -rf "$state/domains"
}

start() {
  [[ $(id -u) == 0 ]] || die "must run as root (qemu:///system)"
  for tool in libvirtd virtlogd virsh; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
      die "$tool missing; run scripts/install-deps.sh (libvirt-daemon-system, libvirt-clients)"
  done
  mkdir -p "$state/users" "$state/domains"
  : > "$state/users/$user"
  if ! running "$state/virtlogd.pid" && ! pgrep -x virtlogd >/dev/null; then
    : > "$state/virtlogd.log"
    LIBVIRT_LOG_OUTPUTS="3:file:$state/virtlogd.log" virtlogd -d -p "$state/virtlogd.pid"
  fi
  if answers; then
    echo "libvirt-daemon: libvirtd answers on $uri" >&2
    return 0
  fi
  if ! running "$state/libvirtd.pid"; then
    : > "$state/libvirtd.log"
    LIBVIRT_LOG_OUTPUTS="3:file:$state/libvirtd.log" libvirtd -d -p "$state/libvirtd.pid"
  fi
  # libvirtd answers once its drivers are loaded (a second or two here).
  local deadline=$((SECONDS + 60))
  until answers; do
    if ((SECONDS >= deadline)) || ! running "$state/libvirtd.pid"; then
      echo "libvirt-daemon: libvirtd did not answer on $uri within 60 s; its log:" >&2
      tail -n 30 "$state/libvirtd.log" >&2 || true
      stop_daemon libvirtd
      stop_daemon virtlogd
      rm -f "$state/users/$user"
      exit 1
    fi
    sleep 0.2  # nothing to wait on: the socket appears, then the drivers load
  done
  echo "libvirt-daemon: libvirtd answers on $uri (state in $state)" >&2
}

stop() {
  rm -f "$state/users/$user"
  local others
  others=$(live_users | tr '\n' ' ')
  if [[ -n "$others" ]]; then
    echo "libvirt-daemon: still used by process(es) $others; leaving domains and daemons" >&2
    return 0
  fi
  remove_test_domains
  stop_daemon libvirtd
  stop_daemon virtlogd
  rm -rf "$state/users"
  echo "libvirt-daemon: stopped" >&2
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if answers; then echo "libvirtd answers on $uri"; else echo "libvirtd does not answer on $uri"; exit 1; fi ;;
  -h|--help) sed -n '2,24p' "$0" ;;
  *) echo "usage: libvirt-daemon.sh start|stop|status" >&2; exit 2 ;;
esac
