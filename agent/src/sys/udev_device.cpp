#include "sys/udev_device.hpp"

#include <cerrno>
#include <charconv>
#include <ctime>
#include <fstream>
#include <system_error>

#include "devices/device_filter.hpp"

namespace tether::agent::udev {
namespace {

std::uint64_t parse_u64(const std::string& s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() ? v : 0;
}

}  // namespace

devices::device_info snapshot(::udev_device* d) {
  devices::device_info info;
  timespec rt{}, mono{};
  ::clock_gettime(CLOCK_REALTIME, &rt);
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  info.received_time_ns = static_cast<std::int64_t>(rt.tv_sec) * 1'000'000'000 + rt.tv_nsec;
  info.received_monotonic_usec =
      static_cast<std::uint64_t>(mono.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(mono.tv_nsec) / 1000;

  info.action = str(::udev_device_get_action(d));
  info.seqnum = ::udev_device_get_seqnum(d);
  info.subsystem = str(::udev_device_get_subsystem(d));
  info.devtype = str(::udev_device_get_devtype(d));
  info.devpath = str(::udev_device_get_devpath(d));
  info.sysname = str(::udev_device_get_sysname(d));
  info.devnode = str(::udev_device_get_devnode(d));
  info.driver = str(::udev_device_get_driver(d));
  for_each_entry(::udev_device_get_devlinks_list_entry(d),
                 [&](std::string name, const std::string&) { info.devlinks.push_back(std::move(name)); });
  for_each_entry(::udev_device_get_properties_list_entry(d),
                 [&](std::string name, std::string value) {
                   info.properties.insert_or_assign(std::move(name), std::move(value));
                 });
  // libudev 252 lists an empty tag for monitor-received devices (":systemd:"
  // splits into "", "systemd"): keep real tags only.
  for_each_entry(::udev_device_get_tags_list_entry(d), [&](std::string name, const std::string&) {
    if (!name.empty()) info.tags.push_back(std::move(name));
  });

  if (auto it = info.properties.find("USEC_INITIALIZED"); it != info.properties.end())
    info.usec_initialized = parse_u64(it->second);
  if (info.usec_initialized == 0 && info.action.empty()) {
    // Database reads: libudev knows how long ago udev initialized it.
    const auto since = ::udev_device_get_usec_since_initialized(d);
    if (since > 0 && since <= info.received_monotonic_usec)
      info.usec_initialized = info.received_monotonic_usec - since;
  }
  return info;
}

std::optional<std::string> read_attribute(::udev_device* d, const std::string& key) {
  const char* v = ::udev_device_get_sysattr_value(d, key.c_str());
  if (!v) return std::nullopt;
  return devices::trim_attribute(v);
}

std::vector<device_ptr> enumerate_initialized(::udev* ctx, const enumerate_hints& hints) {
  enumerate_ptr e(::udev_enumerate_new(ctx));
  if (!e) throw std::system_error(errno ? errno : ENOMEM, std::generic_category(), "udev_enumerate_new");
  auto check = [](int r, const char* what) {
    if (r < 0) throw std::system_error(-r, std::generic_category(), what);
  };
  if (!hints.subsystem.empty())
    check(::udev_enumerate_add_match_subsystem(e.get(), hints.subsystem.c_str()), "udev_enumerate_add_match_subsystem");
  if (!hints.sysname.empty())
    check(::udev_enumerate_add_match_sysname(e.get(), hints.sysname.c_str()), "udev_enumerate_add_match_sysname");
  if (!hints.tag.empty())
    check(::udev_enumerate_add_match_tag(e.get(), hints.tag.c_str()), "udev_enumerate_add_match_tag");
  check(::udev_enumerate_add_match_is_initialized(e.get()), "udev_enumerate_add_match_is_initialized");
  check(::udev_enumerate_scan_devices(e.get()), "udev_enumerate_scan_devices");

  std::vector<device_ptr> out;
  for_each_entry(::udev_enumerate_get_list_entry(e.get()), [&](const std::string& syspath, const std::string&) {
    // A device can vanish between the scan and this read: skip it.
    if (device_ptr d{::udev_device_new_from_syspath(ctx, syspath.c_str())}) out.push_back(std::move(d));
  });
  return out;
}

std::uint64_t kernel_seqnum() {
  std::ifstream f("/sys/kernel/uevent_seqnum");
  std::uint64_t v = 0;
  if (!(f >> v)) return 0;
  return v;
}

}  // namespace tether::agent::udev
