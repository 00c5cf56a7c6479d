// The agent's policy from its config file (/etc/tether/agent.conf, see
// config/agent.conf for the documented format): which services it serves,
// which directories file calls may touch, whether and as whom exec may run
// commands. Limits from the same file go straight into agent_options
// (session_limits, hub_options); this struct holds what services consult.
//
// Services receive a const agent_config& when they are made (agent.cpp
// make_registry) and must enforce their part on every call:
//   files: every path a call names must lie under one of files_roots (after
//          resolving symlinks and "..") unless files_roots is empty;
//   exec:  the user a command runs as must be in exec_users unless it is
//          empty. exec_enabled == false disables the whole exec service (the
//          registry answers DISABLED_BY_CONFIG; exec never sees the call).
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent {

// Every service name the config file accepts. A name outside this list is a
// config error (so a typo cannot silently leave a service enabled); a new
// service adds its name here.
inline constexpr std::string_view known_services[] = {"ping",  "info",  "stats", "devices",
                                                      "exec",  "files", "power"};
bool is_known_service(std::string_view name);

struct agent_config {
  // The file these values came from, named in "disabled by configuration"
  // errors; empty when no file was read (all defaults).
  std::string source;

  // [services] allow: if set, only these services are served.
  std::optional<std::set<std::string>> services_allow;
  // [services] deny: never served (wins over allow).
  std::set<std::string> services_deny;

  // [files] roots: absolute, lexically normalised directories (no trailing
  // slash) that file calls may touch, including everything below them.
  // Empty: any path the agent's user may access.
  std::vector<std::string> files_roots;

  // [exec] enabled: whether the exec service runs commands at all.
  bool exec_enabled = true;
  // [exec] users: user names (or numeric uids, as written) commands may run
  // as. Empty: any user. Names are resolved per call, not at load time, so
  // users created after the agent started work.
  std::vector<std::string> exec_users;

  // Whether service `name` is served under this policy.
  bool service_enabled(std::string_view name) const;
  // Why `name` is disabled, naming the key to change and the file; empty when
  // it is enabled. Sent to the host with DISABLED_BY_CONFIG.
  std::string disabled_reason(std::string_view name) const;
};

}  // namespace tether::agent
