// Service "ping": ping.Ping answers at once (latency probe, liveness).
#pragma once

#include "tether/agent/service.hpp"

namespace tether::agent {

class ping_service final : public service {
 public:
  std::string_view name() const override { return "ping"; }
  void add_methods(service_registry& registry) override;
};

}  // namespace tether::agent
