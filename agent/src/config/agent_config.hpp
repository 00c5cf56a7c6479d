// The agent's policy from its config file (/etc/tether/agent.conf, see
// config/agent.conf for the documented format): which services it serves,
// which directories file calls may touch, whether and as whom exec may run
// commands. Limits from the same file go straight into agent_options
// (session_limits, hub_options); this struct holds what services consult.
//
// agent.cpp make_registry hands each service its part, enforced per call:
//   files: files_service(files_roots) -> files::path_policy: every path a
//          call names is resolved beneath a root's descriptor (openat2
//          RESOLVE_BENEATH) unless files_roots is empty;
//   exec:  exec_policy.allowed_users = exec_users: the user a command runs as
//          must be listed unless it is empty. exec_enabled == false disables
//          the whole exec service (the registry answers DISABLED_BY_CONFIG;
//          exec is never made).
//   forward: forward_service(forward_sockets); disabled while the list is empty.
// --files-root / --exec-user / --forward-socket flags replace these lists (config/settings.cpp).
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
                                                      "exec",  "files", "power", "forward", "fsfreeze"};
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
  // [exec] users: users commands may run as, compared with the user a request
  // names as written (or the agent's own user name when it names none).
  // Empty: any user. Nothing is resolved at load time, so users created after
  // the agent started work.
  std::vector<std::string> exec_users;

  // [forward] sockets: unix socket paths (fnmatch patterns, absolute) the
  // host may open a forward.Open stream to (services/forward_service.hpp).
  // Empty: the forward service is disabled.
  std::vector<std::string> forward_sockets;

  // Whether service `name` is served under this policy.
  bool service_enabled(std::string_view name) const;
  // Why `name` is disabled, naming the key to change and the file; empty when
  // it is enabled. Sent to the host with DISABLED_BY_CONFIG.
  std::string disabled_reason(std::string_view name) const;
};

}  // namespace tether::agent
