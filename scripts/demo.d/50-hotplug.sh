# Demo step (sourced by scripts/demo.sh): hotplug without sleeps.
say "Hotplug without sleeps: plug a disk through QMP, then wait for the guest's udev to announce it"
img=$state/demo-disk.img
truncate -s 64M "$img"
run "$ctl" qmp --qmp "$state/qmp.sock" blockdev-add \
  "{\"driver\":\"raw\",\"node-name\":\"demodisk\",\"file\":{\"driver\":\"file\",\"filename\":\"$img\"}}"
run "$ctl" qmp --qmp "$state/qmp.sock" device_add \
  '{"driver":"virtio-blk-pci","drive":"demodisk","id":"demodisk","serial":"demo-disk-1"}'
run "$ctl" wait-device --subsystem block --property ID_SERIAL=demo-disk-1 --timeout 30
run "$ctl" devices --subsystem block --property ID_SERIAL=demo-disk-1

say "Unplug it and wait until the guest no longer has it"
run "$ctl" qmp --qmp "$state/qmp.sock" device_del '{"id":"demodisk"}'
run "$ctl" wait-device --subsystem block --property ID_SERIAL=demo-disk-1 --gone --timeout 30
