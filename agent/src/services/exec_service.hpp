// Service "exec": exec.Run (a process with live stdin/stdout/stderr streams),
// exec.Signal and exec.Resize. See proto/tether/v1/exec.proto.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "exec/child_process.hpp"
#include "exec/command_setup.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent {

class exec_service final : public service {
 public:
  explicit exec_service(exec::exec_policy policy = {});
  ~exec_service() override;

  std::string_view name() const override { return "exec"; }
  void add_methods(service_registry& registry) override;

  // Agent shutdown: terminates what runs for a call; lets keep_running
  // processes go on without the agent.
  void stop() override;

  struct running;  // one exec.Run in progress

 private:
  awaitable<std::string> run(call_context& call);
  awaitable<std::string> signal(call_context& call);
  awaitable<std::string> resize(call_context& call);
  std::shared_ptr<running> find(const call_context& call, std::uint64_t call_id) const;

  exec::exec_policy policy_;
  // Keyed by (session id, call id): exec.Signal names a call of its session.
  std::map<std::pair<std::string, std::uint64_t>, std::weak_ptr<running>> calls_;
  // Every process still alive, including detached keep_running ones.
  std::set<std::shared_ptr<running>> alive_;
};

}  // namespace tether::agent
