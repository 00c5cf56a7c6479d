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

}  // namespace tether::agent
