// power::shutdown_all: power every guest of the host off in parallel at host
// shutdown, through its agent, or with an ACPI power button press through
// QMP when the agent does not do it.
#include <cstdio>
#include <memory>

#include "power_machine.hpp"
#include "tether/common/asio.hpp"
#include "tether/common/async_event.hpp"
#include "tether/qmp.hpp"
#include "typed_call.hpp"

namespace tether::power {

using namespace asio::experimental::awaitable_operators;
using detail::clock;
using detail::follow_end;
using detail::follow_result;
using detail::left_until;

namespace {

std::string seconds_text(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// QEMU reports the end: a SHUTDOWN event (the guest powered off; QEMU may
// stay with -no-shutdown) or its QMP socket closing (QEMU exited).
awaitable<follow_result> qemu_down(qmp::client& qemu, std::uint64_t mark, clock::time_point deadline) {
  follow_result out;
  try {
    co_await qemu.wait_event("SHUTDOWN", {}, mark, {left_until(deadline)});
    out.end = follow_end::down;
  } catch (const error& e) {
    if (e.code() == make_error_code(errc::connection_lost)) {
      out.end = follow_end::down;
    } else if (e.code() == make_error_code(errc::timeout)) {
      out.end = follow_end::timed_out;
      out.message = "QEMU did not shut down by the deadline";
    } else {
      out.end = follow_end::failed;
      out.message = e.what();
    }
  }
  co_return out;
}

// follow() or the machine's "off", whichever ends first.
awaitable<follow_result> either(awaitable<follow_result> a, awaitable<follow_result> b) {
  auto r = co_await (std::move(a) || std::move(b));
  co_return r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
}

// QEMU through its QMP socket: SHUTDOWN (or QMP closing) for "off", and the
// ACPI power button.
class qmp_machine final : public detail::machine {
 public:
  explicit qmp_machine(std::unique_ptr<qmp::client> qemu) : qemu_(std::move(qemu)), mark_(qemu_->event_mark()) {}
  awaitable<follow_result> down(clock::time_point deadline) override {
    return qemu_down(*qemu_, mark_, deadline);
  }
  awaitable<void> press_power_button() override { co_await qemu_->execute("system_powerdown"); }
  std::string button_text() const override { return "ACPI power button via QMP"; }
  guest_result::how button_how() const override { return guest_result::how::acpi; }

 private:
  std::unique_ptr<qmp::client> qemu_;
  std::uint64_t mark_;
};

// QEMU's QMP socket, if the guest names one: to see QEMU shut down, and for
// the ACPI fallback. Null (with the reason in `problem`) when unreachable.
awaitable<std::unique_ptr<detail::machine>> connect_qmp(const guest_config& g, const shutdown_options& opts,
                                                        std::string& problem) {
  if (g.qmp.empty()) co_return nullptr;
  qmp::options qo;
  qo.socket_path = g.qmp;
  qo.command_timeout = std::min(opts.agent_timeout, milliseconds(5000));
  auto qemu = std::make_unique<qmp::client>(co_await asio::this_coro::executor, qo);
  try {
    co_await qemu->connect();
  } catch (const error& e) {
    problem = e.what();
    co_return nullptr;
  }
  co_return std::make_unique<qmp_machine>(std::move(qemu));
}

// The agent's acceptance of the host-halt power-off, with the watch opened
// before it; `problem` says why not.
struct agent_answer {
  std::unique_ptr<call_stream> watch;
  v1::PowerReply reply;
  std::string problem;
};

awaitable<agent_answer> ask_agent(client& guest, bool socket_alive, const guest_config& g,
                                  const shutdown_options& opts, clock::time_point deadline) {
  agent_answer out;
  try {
    if (!socket_alive) throw error(errc::connection_failed, "nothing accepts connections on " + g.socket);
    co_await guest.connect({opts.agent_timeout});
    out.watch = co_await detail::open_watch(guest, deadline);
    const auto req = detail::make_request(action::poweroff, true, opts.hook_timeout);
    out.reply = co_await tether::detail::call<v1::PowerReply>(guest, "power.Request", req, {opts.agent_timeout});
  } catch (const error& e) {
    out.problem = e.what();
    out.watch.reset();
  }
  co_return out;
}

// One line for the log about what the agent said it will do.
std::string describe(const v1::PowerReply& reply) {
  const auto m = reply.method();
  return std::string("agent: poweroff via ") +
         (m == v1::POWER_METHOD_LOGIND    ? "logind"
          : m == v1::POWER_METHOD_SYSTEMD ? "systemd"
          : m == v1::POWER_METHOD_KERNEL  ? "the kernel"
                                          : "?") +
         (reply.simulated() ? " (simulated)" : "") + ", " + std::to_string(reply.hooks_size()) + " host-halt hook(s)";
}

// One guest, step by step: QMP, is it running, ask its agent and follow it
// down, else press the ACPI power button.
awaitable<guest_result> shutdown_one(guest_config g, shutdown_options opts, clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  const auto t0 = clock::now();
  guest_result r;
  r.name = g.name;
  auto finish = [&](guest_result::how via, bool down, std::string detail) {
    r.via = via;
    r.down = down;
    r.elapsed = std::chrono::duration_cast<milliseconds>(clock::now() - t0);
    r.detail = std::move(detail) + (down ? "; down after " : "; NOT down after ") + seconds_text(r.elapsed);
    return r;
  };

  std::string qmp_problem;
  std::unique_ptr<detail::machine> qemu;  // (no co_await inside ?: with GCC 12)
  if (g.domain.empty())
    qemu = co_await connect_qmp(g, opts, qmp_problem);
  else
    qemu = detail::libvirt_machine(g);
  const bool tether_alive = co_await detail::socket_alive(g.socket);
  if (!tether_alive && !qemu)
    co_return finish(guest_result::how::not_running, true,
                     "not running (nothing accepts connections on " + g.socket +
                         (g.qmp.empty() ? std::string() : " or " + g.qmp) + ")");

  client_options co;
  co.socket_path = g.socket;
  co.call_timeout = opts.agent_timeout;
  co.handshake_timeout = opts.agent_timeout;
  client guest(ex, co);
  auto answer = co_await ask_agent(guest, tether_alive, g, opts, deadline);

  if (answer.problem.empty()) {
    std::string how = describe(answer.reply);
    int hooks_failed = 0;
    // Named: follow() keeps a reference to it until it completes.
    const std::function<void(const event&)> on_event = [&hooks_failed](const event& e) {
      if (e.what == event::kind::hook_finished && (e.exit_code != 0 || e.timed_out)) ++hooks_failed;
    };
    auto follow_agent = detail::follow(guest, std::move(answer.watch), action::poweroff, answer.reply.boot_id(),
                                       deadline, on_event);
    follow_result followed;
    if (qemu)
      followed = co_await either(std::move(follow_agent), qemu->down(deadline));
    else
      followed = co_await std::move(follow_agent);
    if (hooks_failed) how += " (" + std::to_string(hooks_failed) + " failed)";
    // libvirt's word that the domain is off, not only the agent's goodbye.
    if (followed.end == follow_end::down && !g.domain.empty()) followed = co_await qemu->down(deadline);
    if (followed.end == follow_end::down) co_return finish(guest_result::how::agent, true, how);
    if (followed.end != follow_end::action_failed || !qemu)
      co_return finish(guest_result::how::agent, false, how + "; " + followed.message);
    answer.problem = "the agent accepted but could not power off: " + followed.message;
  }

  // The agent did not do it: press the power button (ACPI, or libvirt's shutdown).
  if (!qemu)
    co_return finish(guest_result::how::none, false,
                     "agent did not answer (" + answer.problem + ") and " +
                         (g.qmp.empty() ? std::string("no qmp socket is configured")
                                        : "QMP is not reachable (" + qmp_problem + ")"));
  const std::string why = "agent did not answer (" + answer.problem + "); " + qemu->button_text();
  std::string failed;
  try {
    co_await qemu->press_power_button();
  } catch (const error& e) {
    failed = e.what();
  }
  if (!failed.empty()) co_return finish(qemu->button_how(), false, why + " failed: " + failed);
  const auto followed = co_await qemu->down(deadline);
  const bool down = followed.end == follow_end::down;
  co_return finish(qemu->button_how(), down, down ? why : why + "; " + followed.message);
}

}  // namespace

awaitable<std::vector<guest_result>> shutdown_all(asio::any_io_executor ex, std::vector<guest_config> guests,
                                                  shutdown_options opts) {
  if (opts.deadline.count() <= 0 || opts.agent_timeout.count() <= 0)
    throw error(errc::invalid_argument, "shutdown_all: deadline and agent_timeout must be positive");
  (void)detail::make_request(action::poweroff, true, opts.hook_timeout);  // validates hook_timeout
  const auto deadline = clock::now() + opts.deadline;
  // Shared with the guests' completions: they may outlive this frame if it
  // is cancelled.
  struct state {
    explicit state(const asio::any_io_executor& e, std::size_t n) : results(n), running(n), changed(e) {}
    std::vector<guest_result> results;
    std::size_t running;
    async_event changed;
    std::function<void(const guest_result&)> on_result;
  };
  auto st = std::make_shared<state>(ex, guests.size());
  st->on_result = opts.on_result;
  for (std::size_t i = 0; i < guests.size(); ++i) {
    asio::co_spawn(ex, shutdown_one(guests[i], opts, deadline),
                   [st, i, name = guests[i].name](std::exception_ptr e, guest_result r) {
                     if (e) {
                       r = guest_result{};
                       r.name = name;
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                         r.detail = std::string("failed: ") + x.what();
                       }
                     }
                     st->results[i] = std::move(r);
                     if (st->on_result) st->on_result(st->results[i]);
                     --st->running;
                     st->changed.notify_all();
                   });
  }
  // Each guest's work ends by the deadline on its own.
  while (st->running > 0) co_await st->changed.wait();
  auto results = std::move(st->results);
  co_return results;
}

}  // namespace tether::power
