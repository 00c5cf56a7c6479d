#include "devices/device_filter.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace tether::agent::devices {

bool glob_match(const std::string& pattern, const std::string& value) {
  return ::fnmatch(pattern.c_str(), value.c_str(), 0) == 0;
}

std::string trim_attribute(std::string_view value) {
  while (!value.empty() && (value.back() == '\n' || value.back() == ' ' || value.back() == '\t' ||
                            value.back() == '\r'))
    value.remove_suffix(1);
  return std::string(value);
}

bool is_safe_attribute_path(std::string_view key) {
  if (key.empty() || key.front() == '/' || key.back() == '/') return false;
  while (!key.empty()) {
    const auto slash = key.find('/');
    const std::string_view part = key.substr(0, slash);
    if (part.empty() || part == "." || part == "..") return false;
    key = slash == std::string_view::npos ? std::string_view{} : key.substr(slash + 1);
  }
  return true;
}

namespace {

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::optional<std::string> check_string(const char* what, const std::string& s,
                                        const filter_limits& limits) {
  if (s.size() > limits.max_length)
    return std::string(what) + " is longer than " + std::to_string(limits.max_length) + " bytes";
  if (has_nul(s)) return std::string(what) + " contains a NUL byte";
  return std::nullopt;
}

}  // namespace

std::optional<std::string> validate(const device_filter& f, const filter_limits& limits) {
  for (auto [what, s] : {std::pair{"subsystem", &f.subsystem}, std::pair{"devtype", &f.devtype},
                         std::pair{"sysname", &f.sysname}})
    if (auto e = check_string(what, *s, limits)) return e;
  if (f.properties.size() > limits.max_conditions || f.tags.size() > limits.max_conditions ||
      f.sysattrs.size() > limits.max_conditions)
    return "filter has more than " + std::to_string(limits.max_conditions) +
           " property, tag or attribute conditions of one kind";
  for (const auto& [k, v] : f.properties) {
    if (k.empty()) return std::string("property condition with an empty name");
    if (auto e = check_string("property name", k, limits)) return e;
    if (auto e = check_string("property value", v, limits)) return e;
  }
  for (const auto& t : f.tags) {
    if (t.empty()) return std::string("empty tag name");
    if (auto e = check_string("tag", t, limits)) return e;
  }
  for (const auto& [k, v] : f.sysattrs) {
    if (auto e = check_string("attribute name", k, limits)) return e;
    if (!is_safe_attribute_path(k))
      return "attribute name '" + k +
             "' must be a relative path below the device directory without '.' or '..' parts";
    if (auto e = check_string("attribute value", v, limits)) return e;
  }
  return std::nullopt;
}

bool matches(const device_filter& f, const device_info& d) {
  if (!f.subsystem.empty() && !glob_match(f.subsystem, d.subsystem)) return false;
  if (!f.devtype.empty() && !glob_match(f.devtype, d.devtype)) return false;
  if (!f.sysname.empty() && !glob_match(f.sysname, d.sysname)) return false;
  for (const auto& [k, pattern] : f.properties) {
    auto it = d.properties.find(k);
    if (it == d.properties.end() || !glob_match(pattern, it->second)) return false;
  }
  for (const auto& t : f.tags)
    if (std::find(d.tags.begin(), d.tags.end(), t) == d.tags.end()) return false;
  for (const auto& [k, pattern] : f.sysattrs) {
    auto it = d.sysattrs.find(k);
    if (it == d.sysattrs.end() || !glob_match(pattern, it->second)) return false;
  }
  return true;
}

std::string describe(const device_filter& f) {
  std::string s;
  auto add = [&s](const std::string& part) { s += (s.empty() ? "" : " ") + part; };
  if (!f.subsystem.empty()) add("subsystem=" + f.subsystem);
  if (!f.devtype.empty()) add("devtype=" + f.devtype);
  if (!f.sysname.empty()) add("sysname=" + f.sysname);
  for (const auto& [k, v] : f.properties) add(k + "=" + v);
  for (const auto& t : f.tags) add("tag=" + t);
  for (const auto& [k, v] : f.sysattrs) add("attr{" + k + "}=" + v);
  return s.empty() ? std::string("(any device)") : "{" + s + "}";
}

}  // namespace tether::agent::devices
