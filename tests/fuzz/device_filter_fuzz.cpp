// Device filters (agent/src/devices/device_filter.cpp) as a host sends them
// (a DeviceFilter message) against a device as udev describes it (a Device
// message): validation, matching, the summary for messages, and the
// conversions of device_proto.cpp.
//
// Input: DeviceFilter bytes, separator (records.hpp), Device bytes.
#include <cstdint>
#include <cstdlib>

#include "check.hpp"
#include "devices/device_proto.hpp"
#include "records.hpp"

namespace {

using namespace tether::agent::devices;

using tether::fuzz::check;

device_info from_wire(const tether::v1::Device& d) {
  device_info out;
  out.action = d.action();
  out.seqnum = d.seqnum();
  out.subsystem = d.subsystem();
  out.devtype = d.devtype();
  out.devpath = d.devpath();
  out.sysname = d.sysname();
  out.devnode = d.devnode();
  out.driver = d.driver();
  out.devlinks.assign(d.devlinks().begin(), d.devlinks().end());
  out.properties.insert(d.properties().begin(), d.properties().end());
  out.tags.assign(d.tags().begin(), d.tags().end());
  // sysfs values as the hub keeps them; the properties stand in for them.
  for (const auto& [k, v] : d.properties()) out.sysattrs[k] = trim_attribute(v);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const auto cut = all.find(tether::fuzz::separator);
  const auto filter_bytes = all.substr(0, cut);
  const auto device_bytes =
      cut == std::string_view::npos ? std::string_view{} : all.substr(cut + tether::fuzz::separator.size());

  tether::v1::DeviceFilter wire_filter;
  if (!wire_filter.ParseFromArray(filter_bytes.data(), static_cast<int>(filter_bytes.size()))) return 0;
  const device_filter f = from_proto(wire_filter);
  check(!describe(f).empty());
  for (const auto& [k, v] : f.sysattrs) {
    if (!is_safe_attribute_path(k)) continue;
    check(!k.empty() && k.front() != '/' && k.find("//") == std::string::npos);
  }
  if (validate(f)) return 0;  // refused: the agent answers INVALID_ARGUMENT and never matches it

  tether::v1::Device wire_device;
  if (!wire_device.ParseFromArray(device_bytes.data(), static_cast<int>(device_bytes.size()))) return 0;
  const device_info d = from_wire(wire_device);
  const bool m = matches(f, d);
  // The empty filter matches every device.
  if (f == device_filter{}) check(m);
  // What the agent sends for the device parses back to the same device.
  tether::v1::DeviceEvent event;
  check(event.ParseFromString(device_event_payload(d)));
  check(event.device().sysname() == d.sysname && event.device().seqnum() == d.seqnum);
  return 0;
}
