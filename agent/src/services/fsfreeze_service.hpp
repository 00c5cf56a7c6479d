// Service "fsfreeze": fsfreeze.Freeze / Thaw / Status through the agent's
// one freezer (qga/fsfreeze.hpp), which QGA's guest-fsfreeze-* use too: a
// freeze made either way is seen and thawed either way, under one guard.
#pragma once

#include "tether/agent/service.hpp"

namespace tether::agent {

namespace qga {
class freezer;
}

class fsfreeze_service final : public service {
 public:
  explicit fsfreeze_service(qga::freezer& f) : freezer_(f) {}
  std::string_view name() const override { return "fsfreeze"; }
  void add_methods(service_registry& registry) override;
  void stop() override;

 private:
  qga::freezer& freezer_;
};

}  // namespace tether::agent
