# Demo step (sourced by scripts/demo.sh): power and host halt. The last step:
# it powers the guest off.
say "Power: this guest has no systemd (PID 1 is a shell script), so suspend is refused with the reason"
run "$ctl" power suspend || echo "(exit status $?)"

say "A host-halt hook in the guest: it runs before the guest powers off because its host goes down"
run "$ctl" exec -- sh -c 'mkdir -p /etc/tether/host-halt.d &&
  printf "#!/bin/sh\necho \"flushing caches before the host halts\"\n" > /etc/tether/host-halt.d/10-demo &&
  chmod 755 /etc/tether/host-halt.d/10-demo'

say "What tether-host-shutdown.service runs at host shutdown: every guest in guests.d, in parallel"
mkdir -p "$state/guests.d"
printf 'name = demo\nsocket = %s\nqmp = %s\n' "$state/tether.sock" "$state/qmp.sock" > "$state/guests.d/demo.conf"
run cat "$state/guests.d/demo.conf"
run "$ctl" shutdown-all --config-dir "$state/guests.d" --deadline 60

say "The guest's console: the hook's output (logged by the agent), then the kernel's power-off"
grep -aE "host-halt hook|reboot: Power down" "$state/console.log" || true
