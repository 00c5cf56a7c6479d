# Demo step (sourced by scripts/demo.sh): freezing filesystems for a snapshot.
say "fsfreeze: the guest's freeze state (the same freezer libvirt's domfsfreeze reaches through QGA)"
run "$ctl" fsfreeze status

say "fsfreeze: freeze, check, thaw (this guest runs from an initramfs: no filesystem on a block device, so 0 frozen; a freeze nobody thaws ends by itself after [qga] freeze_limit_ms)"
run "$ctl" fsfreeze freeze
run "$ctl" fsfreeze status
run "$ctl" fsfreeze thaw
