// Service "info": info.Get reports facts about the guest and the agent.
#pragma once

#include <map>
#include <string>

#include "tether/agent/service.hpp"

namespace tether::agent {

class info_service final : public service {
 public:
  std::string_view name() const override { return "info"; }
  void add_methods(service_registry& registry) override;
};

// Parses os-release(5) text: KEY=value lines, values optionally quoted.
std::map<std::string, std::string> parse_os_release(std::string_view text);

// What the guest says about its system, read once per call: info.Get and
// QGA's guest-get-osinfo / guest-get-host-name report these same facts.
struct os_facts {
  std::map<std::string, std::string> os_release;  // /etc/os-release, else /usr/lib/os-release
  std::string kernel_name, kernel_release, kernel_version, machine;  // uname(2)
  std::string hostname;
};
os_facts read_os_facts();

}  // namespace tether::agent
