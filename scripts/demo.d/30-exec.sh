# Demo step (sourced by scripts/demo.sh): commands with live streams.
say "Run a command in the guest: stdout and stderr stream live, the exit status comes back"
run "$ctl" exec -- sh -c 'for i in 1 2 3; do echo "tick $i"; sleep 0.3; done; echo "to stderr" >&2; exit 3' || echo "(exit status $?)"
say "Feed it stdin from the host"
printf 'hello from the host\n' | run "$ctl" exec -i -- tr a-z A-Z
say "A timeout kills the whole process group (exit status 124, as timeout(1))"
run "$ctl" exec --timeout 1 -- sh -c 'sleep 100 & sleep 100' || echo "(exit status $?)"
say "On a pseudo-terminal, with a window size"
run "$ctl" exec --tty -- sh -c 'tty; stty size' </dev/null
