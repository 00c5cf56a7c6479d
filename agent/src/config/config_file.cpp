#include "config/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <cctype>
#include <functional>
#include <map>
#include <stdexcept>

namespace tether::agent {
namespace {

// A config file is a few KiB; anything far larger is a mistake (or /dev/zero).
constexpr std::size_t max_config_bytes = 1u << 20;

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// Comma-separated items, each trimmed; an empty value is an empty list.
std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  if (trim(value).empty()) return out;
  for (;;) {
    const auto comma = value.find(',');
    const auto item = trim(value.substr(0, comma));
    if (item.empty()) throw std::invalid_argument("has an empty list item (items are separated by commas)");
    out.emplace_back(item);
    if (comma == std::string_view::npos) return out;
    value.remove_prefix(comma + 1);
  }
}

std::string quoted_list(std::span<const std::string_view> names) {
  std::string s;
  for (auto n : names) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

std::set<std::string> service_set(std::string_view value) {
  std::set<std::string> out;
  for (auto& name : split_list(value)) {
    if (!is_known_service(name))
      throw std::invalid_argument("names unknown service '" + name + "' (known: " + quoted_list(known_services) +
                                  ")");
    out.insert(std::move(name));
  }
  return out;
}

bool parse_bool(std::string_view v) {
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw std::invalid_argument("needs true or false, got '" + std::string(v) + "'");
}

// User names as useradd allows them, or numeric uids; resolved at call time.
void check_user(const std::string& u) {
  const bool ok = !u.empty() && u.size() <= 256 && u[0] != '-' &&
                  std::all_of(u.begin(), u.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
                           c == '$';
                  });
  if (!ok) throw std::invalid_argument("has an invalid user name '" + u + "'");
}

std::string normal_root(const std::string& p) {
  if (p.empty() || p[0] != '/') throw std::invalid_argument("needs absolute paths, got '" + p + "'");
  std::string n = std::filesystem::path(p).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

using setter = std::function<void(agent_options&, std::string_view)>;

struct key_info {
  setter set;
};

// (section, key) -> how to apply its value. Numbers come from number_settings().
const std::map<std::pair<std::string, std::string>, key_info, std::less<>>& keys() {
  static const auto table = [] {
    std::map<std::pair<std::string, std::string>, key_info, std::less<>> t;
    t[{"services", "allow"}] = {[](agent_options& o, std::string_view v) {
      auto s = service_set(v);
      if (s.empty())
        throw std::invalid_argument("is empty; list the services to serve, or remove the key to serve all");
      o.config.services_allow = std::move(s);
    }};
    t[{"services", "deny"}] = {[](agent_options& o, std::string_view v) { o.config.services_deny = service_set(v); }};
    t[{"files", "roots"}] = {[](agent_options& o, std::string_view v) {
      std::vector<std::string> roots;
      for (const auto& p : split_list(v)) roots.push_back(normal_root(p));
      o.config.files_roots = std::move(roots);
    }};
    t[{"exec", "enabled"}] = {[](agent_options& o, std::string_view v) { o.config.exec_enabled = parse_bool(v); }};
    t[{"exec", "users"}] = {[](agent_options& o, std::string_view v) {
      auto users = split_list(v);
      for (const auto& u : users) check_user(u);
      o.config.exec_users = std::move(users);
    }};
    t[{"power", "host_halt_dir"}] = {[](agent_options& o, std::string_view v) {
      if (v.empty() || v[0] != '/') throw std::invalid_argument("needs an absolute directory, got '" + std::string(v) + "'");
      o.power.host_halt_dir = v;
    }};
    t[{"power", "method"}] = {[](agent_options& o, std::string_view v) {
      const auto m = power::parse_method_choice(std::string(v));
      if (!m) throw std::invalid_argument("needs auto, logind, systemd or kernel, got '" + std::string(v) + "'");
      o.power.method = *m;
    }};
    t[{"log", "level"}] = {[](agent_options& o, std::string_view v) {
      if (!is_log_level(v))
        throw std::invalid_argument("needs error, warning, notice, info or debug, got '" + std::string(v) + "'");
      o.log_level = v;
    }};
    for (const auto& n : number_settings())
      t[{std::string(n.section), std::string(n.key)}] = {[&n](agent_options& o, std::string_view v) {
        n.apply(o, parse_bounded(v, n.min, n.max));
      }};
    return t;
  }();
  return table;
}

std::string known_keys_of(std::string_view section) {
  std::string s;
  for (const auto& [k, _] : keys())
    if (k.first == section) s += (s.empty() ? "" : ", ") + k.second;
  return s;
}

std::string known_sections() {
  std::string s;
  std::string last;
  for (const auto& [k, _] : keys())
    if (k.first != last) {
      s += (s.empty() ? "[" : ", [") + k.first + "]";
      last = k.first;
    }
  return s;
}

bool is_section(std::string_view name) {
  for (const auto& [k, _] : keys())
    if (k.first == name) return true;
  return false;
}

}  // namespace

std::string default_config_path() { return TETHER_DEFAULT_CONFIG; }

bool is_known_service(std::string_view name) {
  return std::find(std::begin(known_services), std::end(known_services), name) != std::end(known_services);
}

bool agent_config::service_enabled(std::string_view name) const { return disabled_reason(name).empty(); }

std::string agent_config::disabled_reason(std::string_view name) const {
  const std::string n(name);
  const std::string in = source.empty() ? "" : " in " + source;
  if (services_deny.contains(n))
    return "'" + n + "' is listed in services.deny" + in + "; remove it there to enable it";
  if (services_allow && !services_allow->contains(n))
    return "'" + n + "' is not listed in services.allow" + in + "; add it there to enable it";
  if (n == "exec" && !exec_enabled) return "exec.enabled is false" + in + "; set it to true to enable exec";
  return {};
}

std::span<const number_setting> number_settings() {
  static const number_setting table[] = {
      {"--max-frame-size", "limits", "max_frame_size", 4096, 64u << 20,
       [](agent_options& o, std::uint64_t v) { o.limits.max_frame_size = static_cast<std::uint32_t>(v); }},
      {"--max-calls", "limits", "max_concurrent_calls", 1, 1u << 20,
       [](agent_options& o, std::uint64_t v) { o.limits.max_concurrent_calls = static_cast<std::uint32_t>(v); }},
      {"--stream-window", "limits", "stream_window", 4096, 256u << 20,
       [](agent_options& o, std::uint64_t v) { o.limits.initial_stream_window = static_cast<std::uint32_t>(v); }},
      {"--event-window", "limits", "event_window", 1, 1u << 20,
       [](agent_options& o, std::uint64_t v) { o.limits.initial_event_window = static_cast<std::uint32_t>(v); }},
      {"--udev-ring-size", "devices", "udev_ring_size", 16, 1u << 20,
       [](agent_options& o, std::uint64_t v) { o.devices.ring_capacity = static_cast<std::size_t>(v); }},
      {"--udev-reorder-ms", "devices", "udev_reorder_ms", 0, 60'000,
       [](agent_options& o, std::uint64_t v) { o.devices.reorder_window = std::chrono::milliseconds(v); }},
  };
  return table;
}

std::uint64_t parse_bounded(std::string_view value, std::uint64_t min, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size() || v < min || v > max)
    throw std::invalid_argument("needs a number from " + std::to_string(min) + " to " + std::to_string(max) +
                                ", got '" + std::string(value) + "'");
  return v;
}

bool is_log_level(std::string_view s) {
  return s == "error" || s == "warning" || s == "notice" || s == "info" || s == "debug";
}

void apply_config(std::string_view text, const std::string& path, agent_options& into) {
  // Applied to a copy, so a bad file changes nothing.
  agent_options o = into;
  o.config.source = path;
  std::string section;
  std::map<std::string, std::size_t, std::less<>> seen;  // "section.key" -> line
  std::size_t lineno = 0;
  auto fail = [&](const std::string& what) {
    throw config_error(path + ":" + std::to_string(lineno) + ": " + what);
  };
  while (!text.empty()) {
    ++lineno;
    const auto nl = text.find('\n');
    const auto raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (std::any_of(raw.begin(), raw.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r';
        }))
      fail("contains a control character");
    const auto line = trim(raw);
    if (line.empty() || line[0] == '#') continue;

    if (line[0] == '[') {
      if (line.back() != ']') fail("a section header needs a closing ']'");
      const auto name = trim(line.substr(1, line.size() - 2));
      if (!is_section(name)) fail("unknown section [" + std::string(name) + "] (known: " + known_sections() + ")");
      section = name;
      continue;
    }

    const auto eq = line.find('=');
    if (eq == std::string_view::npos) fail("expected 'key = value', a [section] header or a # comment");
    const std::string key(trim(line.substr(0, eq)));
    const auto value = trim(line.substr(eq + 1));
    if (key.empty()) fail("missing key before '='");
    if (section.empty()) {
      std::string where;
      for (const auto& [k, _] : keys())
        if (k.second == key) where += (where.empty() ? "[" : " or [") + k.first + "]";
      fail("'" + key + "' is outside a section; " +
           (where.empty() ? "start with a section header such as [limits]" : "put it under " + where));
    }
    const auto it = keys().find(std::pair(section, key));
    if (it == keys().end())
      fail("unknown key '" + key + "' in [" + section + "] (known: " + known_keys_of(section) + ")");
    const std::string dotted = section + "." + key;
    if (auto [prev, fresh] = seen.try_emplace(dotted, lineno); !fresh)
      fail(dotted + " is set twice (first on line " + std::to_string(prev->second) + ")");
    try {
      it->second.set(o, value);
    } catch (const std::invalid_argument& e) {
      fail(dotted + " " + e.what());
    }
  }
  into = std::move(o);
}

bool load_config_file(const std::string& path, bool required, agent_options& into) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT && !required) return false;
    throw config_error(path + ": cannot open config file: " + std::strerror(errno));
  }
  std::string text;
  struct stat st {};
  int err = 0;
  if (::fstat(fd, &st) != 0) {
    err = errno;
  } else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
    // /dev/null: an empty config, so tests need not depend on /etc.
  } else if (!S_ISREG(st.st_mode)) {
    // Not a FIFO or device a read could block on.
    ::close(fd);
    throw config_error(path + ": not a regular file");
  } else {
    char buf[8192];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        err = errno;
        break;
      }
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > max_config_bytes) {
        ::close(fd);
        throw config_error(path + ": larger than " + std::to_string(max_config_bytes) + " bytes");
      }
    }
  }
  ::close(fd);
  if (err != 0) throw config_error(path + ": cannot read config file: " + std::strerror(err));
  apply_config(text, path, into);
  return true;
}

}  // namespace tether::agent
