// Where a guest block device sits on the virtual hardware, as qemu-ga 7.2
// reports it (guest-get-fsinfo's "disk", guest-get-disks' "address"): the
// PCI function of its controller, the bus type, and the SCSI address. Read
// from the device's sysfs path; libvirt maps it back to the domain's disks.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "qga/protocol.hpp"

namespace tether::agent::qga {

struct disk_address {
  int domain = 0, bus = 0, slot = 0, function = 0;  // the controller's PCI address
  std::string bus_type;                              // "virtio", "scsi", "sata"
  int scsi_bus = 0, target = 0, unit = 0;            // SCSI channel:target:lun; 0 for virtio
  std::string dev;                                   // "/dev/vda"
  std::optional<std::string> serial;                 // udev's ID_SERIAL
};

// The address of the disk at `devpath` (a resolved sysfs path such as
// /sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda); nullopt for a
// device not on PCI or of a bus qemu-ga does not describe.
std::optional<disk_address> address_from_syspath(std::string_view devpath);

json::value to_json(const disk_address& a);

// The disks a block device (by its sysfs directory) stands on: a partition
// its disk, a device-mapper or md device the disks of its slaves, a disk
// itself; each with dev and serial filled in.
std::vector<disk_address> disks_under(const std::string& sysfs_dir);

}  // namespace tether::agent::qga
