#include "config/agent_config.hpp"

#include <algorithm>

namespace tether::agent {

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
  if (n == "forward" && forward_sockets.empty())
    return "forward.sockets is empty" + in + "; list the unix sockets the host may reach there (e.g. " +
           "/run/vms/*/tether.sock) to enable forward";
  return {};
}

}  // namespace tether::agent
