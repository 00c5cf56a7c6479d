#include <iostream>
#include <optional>
#include <stdexcept>
#include <utility>

#include "agent.hpp"
#include "config/config_file.hpp"

namespace tether::agent {

std::string agent_version() { return TETHER_VERSION; }

std::string usage_text() {
  std::string text = R"(Usage: tether-agent [OPTIONS]

Serves tether RPCs (ping, info, ...) to the host over a virtio-serial port.
Normally started by systemd when the port org.tether.agent.0 appears.

Options:
  --config PATH           agent config file (default @CONFIG@;
                          the default may be missing, an explicit one may
                          not). Flags below override its values.
  --check-config          check the config file and the other flags, print
                          "ok" or the error (exit status 2), and exit
  --port NAME|PATH        virtio-serial port to serve, by name (resolved via
                          /dev/virtio-ports/NAME or sysfs) or device path.
                          Repeatable. Default: org.tether.agent.0
  --listen-unix PATH      serve on a unix socket instead (development and
                          tests); each connection is one host session.
                          Repeatable.
  --max-frame-size BYTES  largest frame accepted from the host (default 1048576)
  --max-calls N           concurrent calls per session (default 1024)
  --stream-window BYTES   per-stream flow-control window granted to the host
                          (default 2097152)
  --event-window N        events a subscription may push before the host
                          grants more (default 256); the host must use the
                          same window (libtether: client_options.event_window)
  --udev-ring-size N      udev events kept for subscribers to replay after a
                          host reconnect (default 4096)
  --udev-reorder-ms MS    how long a udev event may wait for a missing lower
                          sequence number before subscribers get it anyway
                          (default 500)
  --udev-control PATH     file whose existence means systemd-udevd runs
                          (default /run/udev/control; for tests)
  --files-root DIR        file calls may only touch paths under DIR
                          (repeatable; replaces files.roots of the config
                          file; default: everything)
  --exec-user USER        commands may only run as USER (repeatable;
                          replaces exec.users; default: any user)
  --host-halt-dir DIR     hooks run before a host-halt power-off
                          (default /etc/tether/host-halt.d)
  --power-method M        auto (default: logind or the systemd manager when
                          systemd is PID 1, else the kernel's reboot(2)),
                          logind, systemd or kernel
  --power-simulate        power requests stop the agent instead of the
                          machine (tests, demos)
  --log-level LEVEL       error, warning, notice, info (default) or debug
  --version               print the version and exit
  --help                  print this help and exit

The config file chooses the services served, the directories file calls
may touch, whether and as whom exec runs commands, and the limits above
(see the comments in the default file).

The agent waits without using CPU while no host is connected, survives the
port being unplugged and plugged back, and starts a fresh session (cancelling
the old one's work) on every new host connection.
)";
  text.replace(text.find("@CONFIG@"), 8, default_config_path());
  return text;
}

namespace {

bool known_flag(std::string_view f) {
  for (const auto& s : number_settings())
    if (s.flag == f) return true;
  return f == "--config" || f == "--port" || f == "--listen-unix" || f == "--udev-control" || f == "--log-level" ||
         f == "--files-root" || f == "--exec-user" || f == "--host-halt-dir" || f == "--power-method";
}

// argv as (flag, value) pairs; flags other than --help, --version,
// --check-config and --power-simulate take a value
// ("--flag VALUE" or "--flag=VALUE").
std::vector<std::pair<std::string, std::string>> tokenize(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h" || a == "--version" || a == "--check-config" ||
        a == "--power-simulate") {
      out.emplace_back(a, "");
      continue;
    }
    const auto eq = a.find('=');
    const std::string flag = a.substr(0, eq);
    if (!known_flag(flag)) throw usage_error("unknown option '" + a + "'");
    if (eq != std::string::npos) {
      out.emplace_back(flag, a.substr(eq + 1));
      continue;
    }
    if (i + 1 >= argc) throw usage_error(a + " needs a value");
    out.emplace_back(a, argv[++i]);
  }
  return out;
}

}  // namespace

parse_result parse_args(int argc, char** argv) {
  parse_result r;
  auto& o = r.options;
  const auto flags = tokenize(argc, argv);
  std::optional<std::string> config_path;
  bool check_only = false;
  for (const auto& [flag, value] : flags) {
    if (flag == "--help" || flag == "-h") {
      std::cout << usage_text();
      r.exit_now = true;
      return r;
    }
    if (flag == "--version") {
      std::cout << "tether-agent " << agent_version() << "\n";
      r.exit_now = true;
      return r;
    }
    if (flag == "--config") config_path = value;
    if (flag == "--check-config") check_only = true;
  }

  // Defaults, then the config file, then the flags.
  const auto path = config_path.value_or(default_config_path());
  const bool loaded = load_config_file(path, config_path.has_value(), o);

  bool roots_from_flags = false, users_from_flags = false;
  for (const auto& [flag, value] : flags) {
    if (flag == "--config" || flag == "--check-config") continue;
    if (flag == "--port") {
      o.ports.push_back(value);
    } else if (flag == "--listen-unix") {
      o.listen_unix.push_back(value);
    } else if (flag == "--files-root") {
      // Flags replace the file's list rather than adding to it.
      if (!roots_from_flags) o.config.files_roots.clear();
      roots_from_flags = true;
      o.config.files_roots.push_back(value);
    } else if (flag == "--exec-user") {
      if (!users_from_flags) o.config.exec_users.clear();
      users_from_flags = true;
      o.config.exec_users.push_back(value);
    } else if (flag == "--host-halt-dir") {
      o.power.host_halt_dir = value;
    } else if (flag == "--power-method") {
      const auto m = power::parse_method_choice(value);
      if (!m) throw usage_error("--power-method must be auto, logind, systemd or kernel");
      o.power.method = *m;
    } else if (flag == "--power-simulate") {
      o.power.simulate = true;
    } else if (flag == "--udev-control") {
      o.devices.udev_control_path = value;
    } else if (flag == "--log-level") {
      if (!is_log_level(value)) throw usage_error("--log-level must be error, warning, notice, info or debug");
      o.log_level = value;
    } else {
      const number_setting* n = nullptr;
      for (const auto& s : number_settings())
        if (s.flag == flag) n = &s;
      try {
        n->apply(o, parse_bounded(value, n->min, n->max));
      } catch (const std::invalid_argument& e) {
        throw usage_error(flag + " " + e.what());
      }
    }
  }
  if (o.ports.empty() && o.listen_unix.empty()) o.ports.emplace_back(default_port);
  if (check_only) {
    std::cout << path << (loaded ? ": ok\n" : ": not present (defaults apply)\n");
    r.exit_now = true;
  }
  return r;
}

}  // namespace tether::agent
