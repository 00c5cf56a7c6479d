// tether-agent's top level: options, transports, services, signals.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "devices/device_hub.hpp"
#include "qga/qga_options.hpp"
#include "services/power_service.hpp"
#include "session/session.hpp"

namespace tether::agent {

namespace qga {
class freezer;
}

inline constexpr const char* default_port = "org.tether.agent.0";

struct agent_options {
  std::vector<std::string> ports;        // virtio port names or paths
  std::vector<std::string> listen_unix;  // unix socket paths (development, tests)
  session_limits limits;
  devices::hub_options devices;  // udev monitor: replay ring, reorder window
  std::string log_level = "info";
  bool audit = true;  // one audit line per host call (audit/audit_log.hpp)
  agent_config config;  // policy from the config file (services, files, exec)
  power_options power;  // host-halt hook directory, method, simulation
  qga::qga_options qga;  // the QGA front end: where, which commands, fsfreeze
};

class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses argv; throws usage_error with a message for the user. Returns
// nullopt-like empty options with `exit_now` set for --help/--version.
struct parse_result {
  agent_options options;
  bool exit_now = false;  // --help or --version printed
};
parse_result parse_args(int argc, char** argv);
// Decides whether and where QGA is served (qga_options::enabled, ports):
// explicit ports or sockets, else [qga] enabled (auto: unless qemu-ga is
// installed). parse_args calls it.
void resolve_qga(qga::qga_options& q);

std::string usage_text();
std::string agent_version();

// The agent's services as `options` configures them. Services the config
// disables are never made, only registered by name so their calls get
// DISABLED_BY_CONFIG with the setting to change. `stop_agent` ends the agent
// as a stop signal would (simulated power). `freezer`: the agent's one
// freezer, which QGA shares (null: no fsfreeze service). (The fuzz targets
// serve a session with it too.)
service_registry make_registry(const agent_options& options, const asio::any_io_executor& ex,
                               std::function<void()> stop_agent, qga::freezer* freezer = nullptr);

// Runs until SIGINT/SIGTERM. Returns the process exit status.
int run_agent(const agent_options& options);

}  // namespace tether::agent
