// A device or udev event as plain data, decoupled from libudev so that the
// matching, ordering and replay logic can be tested without udevd.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tether::agent::devices {

struct device_info {
  std::string action;          // empty for devices read from the udev database
  std::uint64_t seqnum = 0;    // kernel uevent SEQNUM; 0 for database reads
  std::string subsystem;
  std::string devtype;
  std::string devpath;         // below /sys
  std::string sysname;
  std::string devnode;
  std::string driver;
  std::vector<std::string> devlinks;
  std::map<std::string, std::string> properties;
  std::vector<std::string> tags;
  // sysfs attributes read for the filters that name them (trailing
  // whitespace removed). Absent: not read or unreadable.
  std::map<std::string, std::string> sysattrs;
  std::uint64_t usec_initialized = 0;         // CLOCK_MONOTONIC, from udev
  std::int64_t received_time_ns = 0;          // CLOCK_REALTIME at receipt
  std::uint64_t received_monotonic_usec = 0;  // CLOCK_MONOTONIC at receipt
};

// One entry of the event log: a device event, or a marker that the kernel
// dropped udev messages before the agent read them (count unknown).
struct log_entry {
  enum class kind { device, overflow };
  kind what = kind::device;
  std::shared_ptr<const device_info> device;  // kind::device
  bool out_of_order = false;  // released after higher sequence numbers
  // Serialized tether.v1.DeviceEvent, prepared once for every subscriber.
  std::shared_ptr<const std::string> payload;

  std::uint64_t seqnum() const { return device ? device->seqnum : 0; }
};

}  // namespace tether::agent::devices
