#include "services/power_service.hpp"

#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "log.hpp"

namespace tether::agent {

using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;

namespace {

// The answer is queued when the handler returns and the session's writer
// sends it on one of its next turns; the action waits this long so that the
// answer (and a watcher's event) is on its way before the guest goes down.
// Generous for a slow emulated guest, short next to any shutdown.
constexpr milliseconds reply_grace{200};

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

// Returns when SIGTERM/SIGINT arrived: the agent is being stopped.
awaitable<void> stop_signal(std::shared_ptr<asio::signal_set> s) { co_await s->async_wait(use_awaitable); }

}  // namespace

power_service::power_service(power_options options) : options_(std::move(options)) {
  action_options_.choice = options_.method;
}

power_service::~power_service() = default;

void power_service::add_methods(service_registry& registry) {
  registry.add_method("power.Request", [this](call_context& c) { return request(c); });
  registry.add_method("power.Watch", [this](call_context& c) { return watch(c); });
}

async_event& power_service::changed(const asio::any_io_executor& ex) {
  if (!changed_) changed_ = std::make_unique<async_event>(ex);
  return *changed_;
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
      action != v1::POWER_ACTION_HALT && action != v1::POWER_ACTION_SUSPEND)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                     "power.Request: action must be poweroff, reboot, halt or suspend, got " +
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
  // Listening from now on: a stop signal that comes before carry_out runs
  // must not be missed (asio queues it for this set).
  auto stop = std::make_shared<asio::signal_set>(ex, SIGTERM, SIGINT);
  asio::co_spawn(ex, carry_out(plan, std::move(hooks), req.host_halt(), hook_timeout, std::move(stop)),
                 [this, action](std::exception_ptr e) {
                   if (!e) return;
                   in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     log::error("power: {} failed: {}", power::action_name(action), x.what());
                   }
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
                                         milliseconds hook_timeout, std::shared_ptr<asio::signal_set> stop) {
  // If the agent is stopped meanwhile (someone else shuts the guest down, or
  // the action itself got under way), whatever is left ends with it:
  // running hooks are killed, so the agent exits at once.
  bool action_started = false;
  auto r = co_await (guarded_steps(plan, hooks, host_halt, hook_timeout, action_started) || stop_signal(stop));
  if (r.index() == 1 && !action_started)
    log::warning("power: the agent is stopping; {} abandoned{}", power::action_name(plan.action),
                 host_halt && !hooks.run.empty() ? " (host-halt hooks interrupted)" : "");
}

awaitable<void> power_service::guarded_steps(const power::plan& plan, const power::hook_list& hooks,
                                             bool host_halt, milliseconds hook_timeout, bool& action_started) {
  // Asio's || waits for the first branch that SUCCEEDS: a failure must end
  // this branch normally, or carry_out would wait for a stop signal.
  try {
    co_await steps(plan, hooks, host_halt, hook_timeout, action_started);
  } catch (const std::exception& e) {
    if (auto* se = dynamic_cast<const boost::system::system_error*>(&e);
        se && se->code() == asio::error::operation_aborted)
      throw;
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
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer grace(ex, reply_grace);
  co_await grace.async_wait(use_awaitable);

  if (host_halt && !hooks.run.empty()) co_await run_hooks(hooks, plan.action, hook_timeout);
  action_started = true;

  auto started = event(v1::PowerEvent::KIND_ACTION_STARTED, plan.action);
  started.set_method(plan.method);
  started.set_host_halt(host_halt);
  publish(std::move(started));

  if (options_.simulate) {
    if (plan.action == v1::POWER_ACTION_SUSPEND) {
      log::notice("power: simulated suspend: nothing to do");
      in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
      co_return;
    }
    log::notice("power: simulated {}: stopping the agent as the shutdown would", power::action_name(plan.action));
    grace.expires_after(reply_grace);  // let watchers see ACTION_STARTED
    co_await grace.async_wait(use_awaitable);
    ::kill(::getpid(), SIGTERM);
    co_return;
  }

  log::notice("power: {} via {}", power::action_name(plan.action), power::method_name(plan.method));
  if (plan.method == v1::POWER_METHOD_KERNEL) {
    // Nothing stops the agent first here: give the event its turn.
    grace.expires_after(reply_grace);
    co_await grace.async_wait(use_awaitable);
  }
  co_await power::execute(plan, action_options_, worker_);  // failures: see guarded_steps
  // A suspended guest comes back and may be asked again.
  if (plan.action == v1::POWER_ACTION_SUSPEND) in_progress_ = v1::POWER_ACTION_UNSPECIFIED;
}

awaitable<std::string> power_service::watch(call_context& call) {
  (void)call.request<v1::PowerWatchRequest>();
  auto& ev = changed(co_await asio::this_coro::executor);
  auto first = event(v1::PowerEvent::KIND_WATCHING, in_progress_);
  first.set_host_halt(in_progress_ != v1::POWER_ACTION_UNSPECIFIED && in_progress_host_halt_);
  std::uint64_t next = first_event_ + events_.size();  // only what happens from now on
  co_await call.emit(first.SerializeAsString());
  for (;;) {
    while (next < first_event_ + events_.size()) {
      if (next < first_event_) next = first_event_;  // dropped while this watcher was slow
      std::string payload = events_[next - first_event_].SerializeAsString();
      ++next;
      co_await call.emit(std::move(payload));
    }
    co_await ev.wait();
  }
}

}  // namespace tether::agent
