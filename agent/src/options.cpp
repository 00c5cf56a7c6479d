#include <charconv>
#include <iostream>

#include "agent.hpp"

namespace tether::agent {
namespace {

std::uint64_t parse_number(const std::string& flag, const std::string& value, std::uint64_t min,
                           std::uint64_t max) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < min || v > max)
    throw usage_error(flag + " needs a number from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", got '" + value + "'");
  return v;
}

}  // namespace

std::string agent_version() { return TETHER_VERSION; }

std::string usage_text() {
  return R"(Usage: tether-agent [OPTIONS]

Serves tether RPCs (ping, info, ...) to the host over a virtio-serial port.
Normally started by systemd when the port org.tether.agent.0 appears.

Options:
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
                          (repeatable; default: everything)
  --exec-user USER        commands may only run as USER (repeatable;
                          default: any user)
  --host-halt-dir DIR     hooks run before a host-halt power-off
                          (default /etc/tether/host-halt.d)
  --power-method M        auto (default: systemd when it is PID 1, else the
                          kernel's reboot(2)), logind, systemd or kernel
  --power-simulate        power requests stop the agent instead of the
                          machine (tests, demos)
  --log-level LEVEL       error, warning, notice, info (default) or debug
  --version               print the version and exit
  --help                  print this help and exit

The agent waits without using CPU while no host is connected, survives the
port being unplugged and plugged back, and starts a fresh session (cancelling
the old one's work) on every new host connection.
)";
}

parse_result parse_args(int argc, char** argv) {
  parse_result r;
  auto& o = r.options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    bool has_inline = false;
    if (a.starts_with("--") && a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      has_inline = true;
    }
    auto need = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) throw usage_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage_text();
      r.exit_now = true;
      return r;
    } else if (a == "--version") {
      std::cout << "tether-agent " << agent_version() << "\n";
      r.exit_now = true;
      return r;
    } else if (a == "--port") {
      o.ports.push_back(need());
    } else if (a == "--listen-unix") {
      o.listen_unix.push_back(need());
    } else if (a == "--max-frame-size") {
      o.limits.max_frame_size =
          static_cast<std::uint32_t>(parse_number(a, need(), 4096, 64u << 20));
    } else if (a == "--max-calls") {
      o.limits.max_concurrent_calls = static_cast<std::uint32_t>(parse_number(a, need(), 1, 1u << 20));
    } else if (a == "--event-window") {
      o.limits.initial_event_window = static_cast<std::uint32_t>(parse_number(a, need(), 1, 1u << 20));
    } else if (a == "--stream-window") {
      o.limits.initial_stream_window =
          static_cast<std::uint32_t>(parse_number(a, need(), 4096, 256u << 20));
    } else if (a == "--udev-ring-size") {
      o.devices.ring_capacity = static_cast<std::size_t>(parse_number(a, need(), 16, 1u << 20));
    } else if (a == "--udev-reorder-ms") {
      o.devices.reorder_window = std::chrono::milliseconds(parse_number(a, need(), 0, 60'000));
    } else if (a == "--files-root") {
      o.files_roots.push_back(need());
    } else if (a == "--exec-user") {
      o.exec_users.push_back(need());
    } else if (a == "--host-halt-dir") {
      o.power.host_halt_dir = need();
    } else if (a == "--power-method") {
      const auto m = power::parse_method_choice(need());
      if (!m) throw usage_error("--power-method must be auto, logind, systemd or kernel");
      o.power.method = *m;
    } else if (a == "--power-simulate") {
      o.power.simulate = true;
    } else if (a == "--udev-control") {
      o.devices.udev_control_path = need();
    } else if (a == "--log-level") {
      o.log_level = need();
      if (o.log_level != "error" && o.log_level != "warning" && o.log_level != "notice" &&
          o.log_level != "info" && o.log_level != "debug")
        throw usage_error("--log-level must be error, warning, notice, info or debug");
    } else {
      throw usage_error("unknown option '" + std::string(argv[i]) + "'");
    }
  }
  if (o.ports.empty() && o.listen_unix.empty()) o.ports.emplace_back(default_port);
  return r;
}

}  // namespace tether::agent
