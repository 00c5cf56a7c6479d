#include "services/power_service.hpp"

#include <algorithm>
#include <fstream>

#include "log.hpp"
#include "tether/common/race.hpp"

namespace tether::agent {

using std::chrono::milliseconds;

namespace {

std::string boot_id() {
  std::ifstream f("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(f, id);
  return id;
}

v1::PowerEvent event(v1::PowerEvent::Kind kind, v1::PowerAction action) {
  v1::PowerEvent e;
  e.set_kind(kind);
  e.set_action(action);
  return e;
}

}  // namespace

power_service::power_service(power_options options, std::function<void()> stop_agent)
    : options_(std::move(options)), stop_agent_(std::move(stop_agent)) {
  action_options_.choice = options_.method;
}

void power_service::stop() {
  stopping_ = true;
  stop_action_.emit(asio::cancellation_type::terminal);
}

power_service::~power_service() = default;

void power_service::add_methods(service_registry& registry) {
  registry.add_method("power.Request", [this](call_context& c) { return request(c); },
                      summary_of<v1::PowerRequest>([](const v1::PowerRequest& r) {
                        std::vector<std::string> words{power::action_name(r.action())};
                        if (r.host_halt()) words.emplace_back("[host halt]");
                        return words;
                      }));
  registry.add_method("power.Watch", [this](call_context& c) { return watch(c); });
}

async_event& power_service::changed(const asio::any_io_executor& ex) {
  if (!changed_) changed_ = std::make_unique<async_event>(ex);
  return *changed_;
}

async_event& power_service::delivered(const asio::any_io_executor& ex) {
  if (!delivered_) delivered_ = std::make_unique<async_event>(ex);
  return *delivered_;
}

awaitable<void> power_service::let_watchers_see_all() {
  auto& ev = delivered(co_await asio::this_coro::executor);
  const std::uint64_t end = first_event_ + events_.size();
  const auto deadline = deadline_clock::now() + watcher_delivery_limit;
  while (std::any_of(watchers_.begin(), watchers_.end(), [end](std::uint64_t d) { return d < end; })) {
    if (!co_await wait_until(ev, deadline)) {
      log::info("power: a watcher did not receive the latest event within {} ms; going on",
                watcher_delivery_limit.count());
      co_return;
    }
  }
}

void power_service::publish(v1::PowerEvent e) {
  events_.push_back(std::move(e));
  while (events_.size() > max_events) {
    events_.pop_front();
    ++first_event_;
  }
  if (changed_) changed_->notify_all();
}

awaitable<std::string> power_service::request(call_context& call) {
  const auto req = call.request<v1::PowerRequest>();
  const auto action = req.action();
  if (action != v1::POWER_ACTION_POWEROFF && action != v1::POWER_ACTION_REBOOT &&
      action != v1::POWER_ACTION_HALT && !power::is_sleep(action))
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                     "power.Request: action must be poweroff, reboot, halt or suspend (or, for QGA's guest-suspend-disk "
                     "and -hybrid, hibernate or hybrid-sleep), got " +
                         std::to_string(static_cast<int>(action)));
  if (req.hook_timeout_ms() > max_hook_timeout_ms)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                     "power.Request: hook_timeout_ms must be at most " + std::to_string(max_hook_timeout_ms) +
                         ", got " + std::to_string(req.hook_timeout_ms()));
  if (in_progress_ != v1::POWER_ACTION_UNSPECIFIED)
    throw call_error(v1::ERROR_CODE_FAILED_PRECONDITION,
                     std::string("power.Request: ") + power::action_name(in_progress_) +
                         (in_progress_host_halt_ ? " (host halt)" : "") +
                         " is already in progress in this guest");
  auto ex = co_await asio::this_coro::executor;
  // Taken before the first wait, so a second request cannot slip in.
  in_progress_ = action;
  in_progress_host_halt_ = req.host_halt();
  struct release_on_failure {
    power_service& s;
    bool armed = true;
    ~release_on_failure() {
      if (armed) s.in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
    }
  } release{*this};

  power::hook_list hooks;
  if (req.host_halt()) hooks = power::find_hooks(options_.host_halt_dir);
  const auto plan = co_await power::prepare(action, action_options_, options_.simulate);

  v1::PowerReply reply;
  reply.set_method(plan.method);
  for (const auto& h : hooks.run) reply.add_hooks(h);
  for (const auto& s : hooks.skipped) reply.add_skipped(s);
  reply.set_boot_id(boot_id());
  reply.set_simulated(options_.simulate);

  const milliseconds hook_timeout(req.hook_timeout_ms() ? req.hook_timeout_ms() : default_hook_timeout_ms);
  log::notice("power: {}{} accepted (via {}{}){}", power::action_name(action),
              req.host_halt() ? " for a host halt" : "", power::method_name(plan.method),
              options_.simulate ? ", simulated" : "",
              req.host_halt() ? ", " + std::to_string(hooks.run.size()) + " hook(s) first" : std::string());
  for (const auto& s : hooks.skipped) log::info("power: host-halt hook skipped: {}", s);

  auto accepted = event(v1::PowerEvent::KIND_ACCEPTED, action);
  accepted.set_method(plan.method);
  accepted.set_host_halt(req.host_halt());
  publish(std::move(accepted));
  release.armed = false;
  // The host learns the answer before anything happens: act once it is
  // written (or could not be: the host asked, so the action goes ahead).
  call.after_reply([this, ex, plan, hooks = std::move(hooks), host_halt = req.host_halt(),
                    hook_timeout](bool) mutable {
    if (stopping_) {
      log::warning("power: the agent is stopping; {} abandoned", power::action_name(plan.action));
      return;
    }
    asio::co_spawn(ex, carry_out(plan, std::move(hooks), host_halt, hook_timeout),
                   asio::bind_cancellation_slot(stop_action_.slot(), [this, action = plan.action](std::exception_ptr e) {
                     if (!e) return;
                     in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& x) {
                       log::error("power: {} failed: {}", power::action_name(action), x.what());
                     }
                   }));
  });
  co_return reply.SerializeAsString();
}

awaitable<void> power_service::run_hooks(const power::hook_list& hooks, v1::PowerAction action,
                                         milliseconds hook_timeout) {
  power::hook_options ho;
  ho.time_limit = hook_timeout;
  // (push_back, not a braced list: GCC 12 coroutine bug)
  ho.env.push_back("TETHER_HOST_HALT=1");
  ho.env.push_back(std::string("TETHER_POWER_ACTION=") + power::action_name(action));
  for (const auto& name : hooks.run) {
    auto started = event(v1::PowerEvent::KIND_HOOK_STARTED, action);
    started.set_hook(name);
    publish(std::move(started));
    log::notice("power: running host-halt hook {} (time limit {} ms)", name, hook_timeout.count());
    const auto r = co_await power::run_hook(options_.host_halt_dir, name, ho);
    auto finished = event(v1::PowerEvent::KIND_HOOK_FINISHED, action);
    finished.set_hook(name);
    finished.set_exit_code(r.exit_code);
    finished.set_signal(r.signal);
    finished.set_timed_out(r.timed_out);
    finished.set_run_time_ms(static_cast<std::uint64_t>(r.run_time.count()));
    finished.set_message(r.error);
    publish(std::move(finished));
    if (!r.error.empty())
      log::warning("power: host-halt hook {} did not run: {}", name, r.error);
    else if (r.timed_out)
      log::warning("power: host-halt hook {} was stopped after its time limit of {} ms", name,
                   hook_timeout.count());
    else if (r.signal)
      log::warning("power: host-halt hook {} was killed by signal {} after {} ms", name, r.signal,
                   r.run_time.count());
    else if (r.exit_code != 0)
      log::warning("power: host-halt hook {} failed with exit status {} after {} ms", name, r.exit_code,
                   r.run_time.count());
    else
      log::notice("power: host-halt hook {} finished after {} ms", name, r.run_time.count());
  }
}

awaitable<void> power_service::carry_out(power::plan plan, power::hook_list hooks, bool host_halt,
                                         milliseconds hook_timeout) {
  // If the agent is stopped meanwhile (someone else shuts the guest down, or
  // the action itself got under way), stop() cancels what is left: running
  // hooks are killed, so the agent exits at once.
  bool action_started = false;
  try {
    co_await steps(plan, hooks, host_halt, hook_timeout, action_started);
  } catch (const std::exception& e) {
    if (auto* se = dynamic_cast<const boost::system::system_error*>(&e);
        se && se->code() == asio::error::operation_aborted) {
      if (!action_started)
        log::warning("power: the agent is stopping; {} abandoned{}", power::action_name(plan.action),
                     host_halt && !hooks.run.empty() ? " (host-halt hooks interrupted)" : "");
      co_return;
    }
    log::error("power: {} failed: {}", power::action_name(plan.action), e.what());
    auto failed = event(v1::PowerEvent::KIND_ACTION_FAILED, plan.action);
    failed.set_method(plan.method);
    failed.set_message(e.what());
    publish(std::move(failed));
    in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
  }
}

awaitable<void> power_service::steps(const power::plan& plan, const power::hook_list& hooks, bool host_halt,
                                     milliseconds hook_timeout, bool& action_started) {
  if (host_halt && !hooks.run.empty()) co_await run_hooks(hooks, plan.action, hook_timeout);
  action_started = true;

  auto started = event(v1::PowerEvent::KIND_ACTION_STARTED, plan.action);
  started.set_method(plan.method);
  started.set_host_halt(host_halt);
  publish(std::move(started));

  if (options_.simulate) {
    if (power::is_sleep(plan.action)) {
      log::notice("power: simulated {}: nothing to do", power::action_name(plan.action));
      in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
      co_return;
    }
    log::notice("power: simulated {}: stopping the agent as the shutdown would", power::action_name(plan.action));
    co_await let_watchers_see_all();
    stop_agent_();
    co_return;
  }

  log::notice("power: {} via {}", power::action_name(plan.action), power::method_name(plan.method));
  if (plan.method == v1::POWER_METHOD_KERNEL) {
    // Nothing stops the agent first here: the guest goes down mid-call.
    co_await let_watchers_see_all();
  }
  co_await power::execute(plan, action_options_, worker_);  // failures: see carry_out
  // A suspended guest comes back and may be asked again.
  if (power::is_sleep(plan.action)) in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
}

awaitable<std::string> power_service::watch(call_context& call) {
  (void)call.request<v1::PowerWatchRequest>();
  auto& ev = changed(co_await asio::this_coro::executor);
  auto first = event(v1::PowerEvent::KIND_WATCHING, in_progress_);
  first.set_host_halt(in_progress_ != v1::POWER_ACTION_UNSPECIFIED && in_progress_host_halt_);
  std::uint64_t next = first_event_ + events_.size();  // only what happens from now on
  // What this watcher's host has received, for let_watchers_see_all().
  struct registration {
    power_service& s;
    std::list<std::uint64_t>::iterator it;
    ~registration() {
      s.watchers_.erase(it);
      if (s.delivered_) s.delivered_->notify_all();
    }
  } reg{*this, watchers_.insert(watchers_.end(), next)};
  co_await call.emit(first.SerializeAsString());
  for (;;) {
    while (next < first_event_ + events_.size()) {
      if (next < first_event_) next = first_event_;  // dropped while this watcher was slow
      std::string payload = events_[next - first_event_].SerializeAsString();
      ++next;
      co_await call.emit(std::move(payload));
    }
    const bool written = co_await call.flush();
    // A watcher whose host is gone holds nothing up.
    *reg.it = written ? next : UINT64_MAX;
    if (delivered_) delivered_->notify_all();
    if (next < first_event_ + events_.size()) continue;  // published meanwhile
    co_await ev.wait();
  }
}

}  // namespace tether::agent
