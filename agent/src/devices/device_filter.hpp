// Which devices a call is about, and the matching rules. Pure logic over
// device_info: no libudev here.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "devices/device_info.hpp"

namespace tether::agent::devices {

// Every set condition must hold. String values are fnmatch(3) globs.
struct device_filter {
  std::string subsystem;
  std::string devtype;
  std::string sysname;
  std::map<std::string, std::string> properties;  // KEY -> glob
  std::vector<std::string> tags;                  // all required, exact
  std::map<std::string, std::string> sysattrs;    // attribute path -> glob

  bool operator==(const device_filter&) const = default;
};

// Limits against a hostile host (each filter is held while the call runs and
// evaluated on every udev event).
struct filter_limits {
  std::size_t max_conditions = 32;  // per map or list
  std::size_t max_length = 256;     // per key or value
};

// Why the filter is unacceptable, or nullopt if it is fine.
std::optional<std::string> validate(const device_filter& f, const filter_limits& limits = {});

// fnmatch(3) without flags, as udev matches properties.
bool glob_match(const std::string& pattern, const std::string& value);

// True if `d` satisfies every condition. sysattr conditions look at
// d.sysattrs (values already read); a missing value does not match.
bool matches(const device_filter& f, const device_info& d);

// Human summary for messages: "subsystem=block ID_SERIAL=disk7".
std::string describe(const device_filter& f);

// sysfs attribute values as udev compares them: trailing whitespace removed.
std::string trim_attribute(std::string_view value);

// True if `key` names a file below a device's sysfs directory (relative, no
// "." or ".." components): a host must not read arbitrary files through it.
bool is_safe_attribute_path(std::string_view key);

}  // namespace tether::agent::devices
