# Demo step (sourced by scripts/demo.sh): guest statistics.
say "Stats: one snapshot of the guest (CPU, memory, load, PSI, disks, filesystems, network)"
run "$ctl" stats

say "Stats pushed by the agent every 500 ms (rates are computed between samples), 4 samples"
run "$ctl" stats --watch 500 --count 4
