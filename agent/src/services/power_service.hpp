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
#include <functional>
#include <list>
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
  // instead of the action the agent stops itself, as a real shutdown would
  // stop it (suspend: nothing happens).
  bool simulate = false;
};

class power_service final : public service {
 public:
  static constexpr std::uint32_t default_hook_timeout_ms = 30'000;
  static constexpr std::uint32_t max_hook_timeout_ms = 600'000;
  // Events kept for watchers that read slowly.
  static constexpr std::size_t max_events = 256;

  // Watchers get this long to receive ACTION_STARTED before the agent goes
  // (kernel method, simulation); a host that stopped reading cannot hold
  // the action up for longer.
  static constexpr std::chrono::milliseconds watcher_delivery_limit{2'000};

  // `stop_agent`: ends the agent as a stop signal would (simulated actions).
  power_service(power_options options, std::function<void()> stop_agent);
  ~power_service() override;

  std::string_view name() const override { return "power"; }
  void add_methods(service_registry& registry) override;
  // The agent stops (someone else shuts the guest down, or the action got
  // under way): an action not yet started is abandoned, running hooks end.
  void stop() override;

 private:
  awaitable<std::string> request(call_context& call);
  awaitable<std::string> watch(call_context& call);
  // After the answer is written: hooks (host halt), then the action.
  awaitable<void> carry_out(power::plan plan, power::hook_list hooks, bool host_halt,
                            std::chrono::milliseconds hook_timeout);
  awaitable<void> steps(const power::plan& plan, const power::hook_list& hooks, bool host_halt,
                        std::chrono::milliseconds hook_timeout, bool& action_started);
  awaitable<void> run_hooks(const power::hook_list& hooks, v1::PowerAction action,
                            std::chrono::milliseconds hook_timeout);
  void publish(v1::PowerEvent e);
  // Waits until every watcher has written the events published so far to
  // its host (or watcher_delivery_limit passed).
  awaitable<void> let_watchers_see_all();
  async_event& changed(const asio::any_io_executor& ex);
  async_event& delivered(const asio::any_io_executor& ex);

  power_options options_;
  power::action_options action_options_;
  // The action accepted and not finished (or failed); UNSPECIFIED when none.
  v1::PowerAction in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
  bool in_progress_host_halt_ = false;
  std::deque<v1::PowerEvent> events_;
  std::uint64_t first_event_ = 0;  // sequence number of events_.front()
  std::unique_ptr<async_event> changed_;
  // Per watcher: events before this sequence number reached its host.
  std::list<std::uint64_t> watchers_;
  std::unique_ptr<async_event> delivered_;
  std::function<void()> stop_agent_;
  bool stopping_ = false;
  asio::cancellation_signal stop_action_;  // ends carry_out
  blocking_worker worker_;  // sync(2) + reboot(2) without systemd
};

}  // namespace tether::agent
