// Reading devices through libudev into plain device_info, and enumerating
// the devices udev has initialized.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "devices/device_info.hpp"
#include "sys/udev.hpp"

namespace tether::agent::udev {

// Copies a device (a monitor event or a database read) into plain data and
// stamps the receipt time.
devices::device_info snapshot(::udev_device* d);

// Reads a sysfs attribute below the device's directory, trailing whitespace
// removed; nullopt if it cannot be read. `key` must have passed
// devices::is_safe_attribute_path.
std::optional<std::string> read_attribute(::udev_device* d, const std::string& key);

// Narrows an enumeration; the caller still applies its full filter. Values
// are fnmatch globs (subsystem, sysname) or an exact tag.
struct enumerate_hints {
  std::string subsystem;
  std::string sysname;
  std::string tag;
};

// Existing devices that udev has initialized (libudev's rule: a device with a
// node or interface counts once udev has written its database entry).
std::vector<device_ptr> enumerate_initialized(::udev* ctx, const enumerate_hints& hints);

// The guest kernel's last uevent sequence number (/sys/kernel/uevent_seqnum);
// 0 if it cannot be read.
std::uint64_t kernel_seqnum();

}  // namespace tether::agent::udev
