// Service "power": power.Request (power off, reboot, halt, suspend; with
// host-halt hooks first) and power.Watch (what happens after the answer).
// See proto/tether/v1/power.proto.
//
// A request is checked (is the action possible here, and how), answered,
// and only then carried out: the host always learns whether the guest
// accepted, even when the guest goes down a moment later. Host-halt hooks run
// after the answer too, so a host waiting for many guests is not held up by
// one guest's hooks; it watches the guest go down instead.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "power/host_halt_hooks.hpp"
#include "power/power_action.hpp"
#include "sys/blocking_worker.hpp"
#include "tether/agent/service.hpp"
#include "tether/common/async_event.hpp"

namespace tether::agent {

struct power_options {
  // Where host-halt hooks live.
  std::string host_halt_dir = "/etc/tether/host-halt.d";
  power::method_choice method = power::method_choice::automatic;
  // Tests and demos: everything as usual (checks, answer, hooks, events), but
  // instead of the action the agent stops itself with SIGTERM, as a real
  // shutdown would stop it (suspend: nothing happens).
  bool simulate = false;
};

class power_service final : public service {
 public:
  static constexpr std::uint32_t default_hook_timeout_ms = 30'000;
  static constexpr std::uint32_t max_hook_timeout_ms = 600'000;
  // Events kept for watchers that read slowly.
  static constexpr std::size_t max_events = 256;

  explicit power_service(power_options options);
  ~power_service() override;

  std::string_view name() const override { return "power"; }
  void add_methods(service_registry& registry) override;

 private:
  awaitable<std::string> request(call_context& call);
  awaitable<std::string> watch(call_context& call);
  // After the answer: hooks (host halt), then the action.
  awaitable<void> carry_out(power::plan plan, power::hook_list hooks, bool host_halt,
                            std::chrono::milliseconds hook_timeout, std::shared_ptr<asio::signal_set> stop);
  awaitable<void> guarded_steps(const power::plan& plan, const power::hook_list& hooks, bool host_halt,
                                std::chrono::milliseconds hook_timeout, bool& action_started);
  awaitable<void> steps(const power::plan& plan, const power::hook_list& hooks, bool host_halt,
                        std::chrono::milliseconds hook_timeout, bool& action_started);
  awaitable<void> run_hooks(const power::hook_list& hooks, v1::PowerAction action,
                            std::chrono::milliseconds hook_timeout);
  void publish(v1::PowerEvent e);
  async_event& changed(const asio::any_io_executor& ex);

  power_options options_;
  power::action_options action_options_;
  // The action accepted and not finished (or failed); UNSPECIFIED when none.
  v1::PowerAction in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
  bool in_progress_host_halt_ = false;
  std::deque<v1::PowerEvent> events_;
  std::uint64_t first_event_ = 0;  // sequence number of events_.front()
  std::unique_ptr<async_event> changed_;
  blocking_worker worker_;  // sync(2) + reboot(2) without systemd
};

}  // namespace tether::agent
