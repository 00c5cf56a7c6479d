#include "config/settings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "config/config_file.hpp"
#include "qga/qga_agent.hpp"

namespace tether::agent {
namespace {

using values = std::span<const std::string>;

std::string joined(std::span<const std::string> items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

std::set<std::string> service_set(values names) {
  std::set<std::string> out;
  for (const auto& name : names) {
    if (!is_known_service(name)) {
      std::string known;
      for (auto k : known_services) known += (known.empty() ? "" : ", ") + std::string(k);
      throw std::invalid_argument("names unknown service '" + name + "' (known: " + known + ")");
    }
    out.insert(name);
  }
  return out;
}

// QGA command names, checked so a typo cannot leave a command enabled.
std::set<std::string> qga_command_set(values names) {
  std::set<std::string> out;
  for (const auto& name : names) {
    if (!qga::is_known_command(name))
      throw std::invalid_argument("names unknown QGA command '" + name + "' (see guest-info for the list)");
    out.insert(name);
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
  const bool ok = !u.empty() && u.size() <= 256 && u[0] != '-' && std::all_of(u.begin(), u.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '$';
                  });
  if (!ok) throw std::invalid_argument("has an invalid user name '" + u + "'");
}

// Absolute and lexically normal, without a trailing slash: path_policy
// matches request paths to roots by their text.
std::string normal_root(const std::string& p) {
  if (p.empty() || p[0] != '/') throw std::invalid_argument("needs absolute paths, got '" + p + "'");
  std::string n = std::filesystem::path(p).lexically_normal().string();
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  return n;
}

bool is_log_level(std::string_view s) {
  return s == "error" || s == "warning" || s == "notice" || s == "info" || s == "debug";
}

const char* method_text(power::method_choice m) {
  switch (m) {
    case power::method_choice::automatic: return "auto";
    case power::method_choice::logind: return "logind";
    case power::method_choice::systemd: return "systemd";
    case power::method_choice::kernel: return "kernel";
  }
  return "?";
}

// A number in [min, max] kept in `field` of agent_options.
template <class T>
setting number(std::string_view flag, std::string_view section, std::string_view key, std::string_view value_name,
               std::uint64_t min, std::uint64_t max, T agent_options::*part, auto field, std::string_view help) {
  setting s{flag, section, key, value_name, false, help, {}, {}};
  s.apply = [=](agent_options& o, values v) {
    const auto n = parse_bounded(v[0], min, max);
    using F = std::remove_reference_t<decltype(o.*part.*field)>;
    if constexpr (std::is_same_v<F, std::chrono::milliseconds>)
      o.*part.*field = std::chrono::milliseconds(n);
    else
      o.*part.*field = static_cast<F>(n);
  };
  s.show = [=](const agent_options& o) {
    const auto& f = o.*part.*field;
    if constexpr (std::is_same_v<std::remove_cvref_t<decltype(f)>, std::chrono::milliseconds>)
      return std::to_string(f.count());
    else
      return std::to_string(f);
  };
  return s;
}

std::vector<setting> make_settings() {
  std::vector<setting> t;
  auto add = [&t](setting s) { t.push_back(std::move(s)); };
  add({"--config", "", "", "PATH", false,
       "agent config file (default {default}; the default may be missing, an explicit one may not). The other "
       "flags override its values.",
       {}, [](const agent_options&) { return default_config_path(); }});
  add({"--check-config", "", "", "", false,
       "check the config file and the other flags, print \"ok\" or the error (exit status 2), and exit", {}, {}});
  add({"--port", "", "", "NAME|PATH", true,
       "virtio-serial port to serve, by name (resolved via /dev/virtio-ports/NAME or sysfs) or device path. "
       "Repeatable. Default: org.tether.agent.0 (none with --listen-unix)",
       [](agent_options& o, values v) { o.ports.assign(v.begin(), v.end()); }, {}});
  add({"--listen-unix", "", "", "PATH", true,
       "serve on a unix socket instead (development and tests); each connection is one host session. Repeatable.",
       [](agent_options& o, values v) { o.listen_unix.assign(v.begin(), v.end()); }, {}});
  add({"", "services", "allow", "NAMES", true, "serve only these services (default: all)",
       [](agent_options& o, values v) {
         auto s = service_set(v);
         if (s.empty())
           throw std::invalid_argument("is empty; list the services to serve, or remove the key to serve all");
         o.config.services_allow = std::move(s);
       },
       {}});
  add({"", "services", "deny", "NAMES", true, "never serve these services (wins over allow)",
       [](agent_options& o, values v) { o.config.services_deny = service_set(v); }, {}});
  add(number("--max-frame-size", "limits", "max_frame_size", "BYTES", 4096, 64u << 20, &agent_options::limits,
             &session_limits::max_frame_size, "largest frame accepted from the host"));
  add(number("--max-calls", "limits", "max_concurrent_calls", "N", 1, 1u << 20, &agent_options::limits,
             &session_limits::max_concurrent_calls, "concurrent calls per session"));
  add(number("--stream-window", "limits", "stream_window", "BYTES", 4096, 256u << 20, &agent_options::limits,
             &session_limits::initial_stream_window, "per-stream flow-control window granted to the host"));
  add(number("--max-buffered", "limits", "max_buffered_bytes", "BYTES", 64u << 10, 1u << 30, &agent_options::limits,
             &session_limits::max_buffered_bytes,
             "host data a session holds for its calls before they read it; the call that would exceed it ends "
             "with RESOURCE_EXHAUSTED"));
  add(number("--event-window", "limits", "event_window", "N", 1, 1u << 20, &agent_options::limits,
             &session_limits::initial_event_window,
             "events a subscription may push before the host grants more; the host must use the same window "
             "(libtether: client_options.event_window)"));
  add(number("--udev-ring-size", "devices", "udev_ring_size", "N", 16, 1u << 20, &agent_options::devices,
             &devices::hub_options::ring_capacity,
             "udev events kept for subscribers to replay after a host reconnect"));
  add(number("--udev-reorder-ms", "devices", "udev_reorder_ms", "MS", 0, 60'000, &agent_options::devices,
             &devices::hub_options::reorder_window,
             "how long a udev event may wait for a missing lower sequence number before subscribers get it anyway"));
  add({"--udev-control", "", "", "PATH", false, "file whose existence means systemd-udevd runs; for tests",
       [](agent_options& o, values v) { o.devices.udev_control_path = v[0]; },
       [](const agent_options& o) { return o.devices.udev_control_path; }});
  add({"--files-root", "files", "roots", "DIR", true,
       "file calls may only touch paths under DIR, an absolute directory (repeatable; replaces files.roots of the "
       "config file; default: everything)",
       [](agent_options& o, values v) {
         std::vector<std::string> roots;
         for (const auto& p : v) roots.push_back(normal_root(p));
         o.config.files_roots = std::move(roots);
       },
       [](const agent_options& o) { return joined(o.config.files_roots); }});
  add({"", "exec", "enabled", "BOOL", false, "whether the host may run commands in this guest",
       [](agent_options& o, values v) { o.config.exec_enabled = parse_bool(v[0]); },
       [](const agent_options& o) { return std::string(o.config.exec_enabled ? "true" : "false"); }});
  add({"--exec-user", "exec", "users", "USER", true,
       "commands may only run as USER (repeatable; replaces exec.users; default: any user)",
       [](agent_options& o, values v) {
         for (const auto& u : v) check_user(u);
         o.config.exec_users.assign(v.begin(), v.end());
       },
       [](const agent_options& o) { return joined(o.config.exec_users); }});
  add({"--forward-socket", "forward", "sockets", "GLOB", true,
       "forward.Open may connect to unix sockets matching GLOB, an absolute fnmatch pattern whose * stays in one "
       "path component (repeatable; replaces forward.sockets; default: none, forward disabled). The guest's "
       "administrator decides which sockets exist there",
       [](agent_options& o, values v) {
         for (const auto& p : v)
           if (p.empty() || p[0] != '/') throw std::invalid_argument("needs absolute patterns, got '" + p + "'");
         o.config.forward_sockets.assign(v.begin(), v.end());
       },
       [](const agent_options& o) { return joined(o.config.forward_sockets); }});
  add({"--host-halt-dir", "power", "host_halt_dir", "DIR", false,
       "hooks run before a host-halt power-off, an absolute directory",
       [](agent_options& o, values v) {
         if (v[0].empty() || v[0][0] != '/')
           throw std::invalid_argument("needs an absolute directory, got '" + v[0] + "'");
         o.power.host_halt_dir = v[0];
       },
       [](const agent_options& o) { return o.power.host_halt_dir; }});
  add({"--power-method", "power", "method", "M", false,
       "auto (logind or the systemd manager when systemd is PID 1, else the kernel's reboot(2)), logind, systemd "
       "or kernel",
       [](agent_options& o, values v) {
         const auto m = power::parse_method_choice(v[0]);
         if (!m) throw std::invalid_argument("needs auto, logind, systemd or kernel, got '" + v[0] + "'");
         o.power.method = *m;
       },
       [](const agent_options& o) { return std::string(method_text(o.power.method)); }});
  add({"--power-simulate", "", "", "", false, "power requests stop the agent instead of the machine (tests, demos)",
       [](agent_options& o, values) { o.power.simulate = true; }, {}});
  add({"", "qga", "enabled", "BOOL|auto", false,
       "also serve QEMU's guest-agent protocol (QGA, as qemu-ga) on the port org.qemu.guest_agent.0; auto: "
       "unless qemu-ga is installed",
       [](agent_options& o, values v) {
         if (v[0] == "auto") {
           o.qga.mode = qga::serve_mode::unless_qemu_ga;
           return;
         }
         try {
           o.qga.mode = parse_bool(v[0]) ? qga::serve_mode::on : qga::serve_mode::off;
         } catch (const std::invalid_argument&) {
           throw std::invalid_argument("needs true, false or auto, got '" + v[0] + "'");
         }
       },
       [](const agent_options& o) {
         using enum qga::serve_mode;
         return std::string(o.qga.mode == unless_qemu_ga ? "auto" : o.qga.mode == on ? "true" : "false");
       }});
  add({"--qga-port", "qga", "ports", "NAME|PATH", true,
       "serve QGA on this virtio-serial port (repeatable; implies qga.enabled; replaces the default "
       "org.qemu.guest_agent.0)",
       [](agent_options& o, values v) {
         for (const auto& p : v)
           if (p.empty() || (p.find('/') != std::string::npos && p[0] != '/'))
             throw std::invalid_argument("needs port names or absolute paths, got '" + p + "'");
         o.qga.ports.assign(v.begin(), v.end());
       },
       {}});
  add({"--qga-listen-unix", "", "", "PATH", true,
       "serve QGA on a unix socket (tests, comparisons); each connection is one host. Repeatable.",
       [](agent_options& o, values v) { o.qga.listen_unix.assign(v.begin(), v.end()); }, {}});
  add({"--qga-allow", "qga", "allow", "COMMAND", true,
       "serve only these QGA commands (repeatable, like qemu-ga's --allow-rpcs; default: all)",
       [](agent_options& o, values v) { o.qga.allow = qga_command_set(v); }, {}});
  add({"--qga-block", "qga", "block", "COMMAND", true,
       "never serve these QGA commands (repeatable, like qemu-ga's --block-rpcs; wins over allow). A service "
       "denied in [services] disables its QGA commands too.",
       [](agent_options& o, values v) { o.qga.block = qga_command_set(v); }, {}});
  add({"--qga-fsfreeze-hook", "qga", "fsfreeze_hook", "PATH", false,
       "run with 'freeze' before guest-fsfreeze-freeze and 'thaw' after the thaw, when it exists (qemu-ga's -F); "
       "empty: never",
       [](agent_options& o, values v) {
         if (!v[0].empty() && v[0][0] != '/')
           throw std::invalid_argument("needs an absolute path or nothing, got '" + v[0] + "'");
         o.qga.fsfreeze_hook = v[0];
       },
       [](const agent_options& o) { return o.qga.fsfreeze_hook; }});
  add(number("--qga-freeze-limit-ms", "qga", "freeze_limit_ms", "MS", 1000, 24u * 3600 * 1000,
             &agent_options::qga, &qga::qga_options::freeze_limit,
             "a freeze no thaw ends within this time is thawed by the agent (qemu-ga has no such guard)"));
  add(number("--qga-freeze-host-gone-ms", "qga", "freeze_host_gone_ms", "MS", 1000, 24u * 3600 * 1000,
             &agent_options::qga, &qga::qga_options::freeze_host_gone_limit,
             "a freeze is thawed by the agent when no host has been connected to QGA for this long"));
  add({"--log-level", "log", "level", "LEVEL", false, "error, warning, notice, info or debug",
       [](agent_options& o, values v) {
         if (!is_log_level(v[0]))
           throw std::invalid_argument("needs error, warning, notice, info or debug, got '" + v[0] + "'");
         o.log_level = v[0];
       },
       [](const agent_options& o) { return o.log_level; }});
  add({"--audit", "log", "audit", "on|off", false,
       "log every call the host makes (method, target, result) to the journal, rate-limited; not filtered by "
       "--log-level",
       [](agent_options& o, values v) { o.audit = parse_bool(v[0]); },
       [](const agent_options& o) { return std::string(o.audit ? "on" : "off"); }});
  add({"--version", "", "", "", false, "print the version and exit", {}, {}});
  add({"--help", "", "", "", false, "print this help and exit", {}, {}});
  return t;
}

// `text` wrapped to lines of at most `width`, each after `indent` blanks
// but the first.
std::string wrapped(std::string_view text, std::size_t indent, std::size_t width) {
  std::string out, line;
  auto flush = [&] {
    if (!out.empty()) out += "\n" + std::string(indent, ' ');
    out += line;
    line.clear();
  };
  while (!text.empty()) {
    const auto sp = text.find(' ');
    const auto word = text.substr(0, sp);
    text.remove_prefix(sp == std::string_view::npos ? text.size() : sp + 1);
    if (!line.empty() && indent + line.size() + 1 + word.size() > width) flush();
    line += (line.empty() ? "" : " ") + std::string(word);
  }
  flush();
  return out;
}

}  // namespace

std::span<const setting> settings() {
  static const std::vector<setting> table = make_settings();
  return table;
}

const setting* find_flag(std::string_view flag) {
  for (const auto& s : settings())
    if (!s.flag.empty() && s.flag == flag) return &s;
  return nullptr;
}

const setting* find_key(std::string_view section, std::string_view key) {
  for (const auto& s : settings())
    if (s.has_key() && s.section == section && s.key == key) return &s;
  return nullptr;
}

std::uint64_t parse_bounded(std::string_view value, std::uint64_t min, std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || p != value.data() + value.size() || v < min || v > max)
    throw std::invalid_argument("needs a number from " + std::to_string(min) + " to " + std::to_string(max) +
                                ", got '" + std::string(value) + "'");
  return v;
}

std::string options_help() {
  constexpr std::size_t column = 26, width = 79;
  const agent_options defaults;
  std::string out;
  for (const auto& s : settings()) {
    if (s.flag.empty()) continue;
    std::string head = "  " + std::string(s.flag) + (s.value_name.empty() ? "" : " " + std::string(s.value_name));
    std::string text(s.help);
    const std::string shown = s.show ? s.show(defaults) : "";
    if (const auto at = text.find("{default}"); at != std::string::npos)
      text.replace(at, 9, shown);
    else if (!shown.empty())
      text += " (default " + shown + ")";
    if (s.has_key()) text += "; config: " + s.dotted();
    if (head.size() + 1 >= column)
      head += "\n" + std::string(column, ' ');
    else
      head.resize(column, ' ');
    out += head + wrapped(text, column, width) + "\n";
  }
  return out;
}

}  // namespace tether::agent
