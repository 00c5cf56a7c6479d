#include "tether/power.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "tether/common/asio.hpp"
#include "tether/common/async_event.hpp"
#include "tether/qmp.hpp"
#include "tether/wire/error.hpp"

namespace tether::power {

using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
using stream_protocol = asio::local::stream_protocol;

namespace {

milliseconds left_until(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
  return std::max(left, milliseconds(1));
}

std::string seconds_text(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// Whether QEMU (or anything) still accepts connections on `path`. A refused
// or missing socket means the process that served it is gone.
awaitable<bool> socket_alive(const std::string& path) {
  stream_protocol::socket s(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  co_await s.async_connect(stream_protocol::endpoint(path), asio::redirect_error(use_awaitable, ec));
  co_return !(ec == boost::system::errc::connection_refused || ec == boost::system::errc::no_such_file_or_directory ||
              ec == boost::system::errc::not_a_directory);
}

awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

// Waits until nothing accepts connections on `path` any more (QEMU exited).
// QEMU announces nothing on that socket, so this probes, 100 ms apart at
// first, then 1 s. False when the deadline passed first.
awaitable<bool> socket_gone(const std::string& path, clock::time_point deadline) {
  milliseconds pause(100);
  for (;;) {
    const bool alive = co_await socket_alive(path);
    if (!alive) co_return true;
    if (clock::now() + pause >= deadline) co_return false;
    co_await sleep_for(pause);
    pause = std::min(pause * 2, milliseconds(1000));
  }
}

error remote_error(v1::ErrorCode code, const std::string& what) {
  return error(wire::make_error_code(code), what);
}

// Opens power.Watch (running until `deadline`) and waits for its first
// event, so that everything after it is seen.
awaitable<std::unique_ptr<call_stream>> open_watch(client& guest, clock::time_point deadline) {
  auto watch = co_await guest.start("power.Watch", v1::PowerWatchRequest{}.SerializeAsString(),
                                    {left_until(deadline)});
  for (;;) {
    auto item = co_await watch->next();
    if (!item) {
      co_await watch->finish();  // throws the agent's error
      throw error(errc::protocol_error, "power.Watch ended before its first event");
    }
    if (item->what != call_stream::chunk::kind::event) continue;
    v1::PowerEvent e;
    if (!e.ParseFromString(item->bytes) || e.kind() != v1::PowerEvent::KIND_WATCHING)
      throw error(errc::protocol_error, "power.Watch: the agent's first event is not WATCHING");
    co_return watch;
  }
}

// Returns when the watch call ends, for whatever reason (the session
// dropped). Never throws but for cancellation: a branch of ||.
awaitable<void> watch_ends(call_stream& watch) {
  try {
    for (;;) {
      auto item = co_await watch.next();
      if (!item) co_return;
    }
  } catch (const error& e) {
    if (e.code() == make_error_code(errc::cancelled)) throw;
  }
}

enum class follow_end { down, back, action_failed, timed_out, failed };

struct follow_result {
  follow_end end = follow_end::failed;
  std::string message;
  std::string boot_id;  // back: the new boot
};

// Reads the watch until the action started and the guest is down (or back,
// for reboot), as request() documents. Never throws (cancellation aside):
// the caller decides what a failure means.
awaitable<follow_result> follow(client& guest, std::unique_ptr<call_stream> watch, action a,
                                const std::string& accepted_boot_id, clock::time_point deadline,
                                const std::function<void(const v1::PowerEvent&)>& on_event) {
  follow_result out;
  const std::string& socket = guest.options().socket_path;
  bool action_started = false;
  try {
    for (;;) {
      // 1. Events until the session drops (or, halt/suspend, the action started).
      bool lost = false;
      while (!lost) {
        std::optional<call_stream::chunk> item;
        try {
          item = co_await watch->next();
          if (!item) co_await watch->finish();  // the agent ended the watch: throws why
        } catch (const error& e) {
          if (e.code() != make_error_code(errc::connection_lost)) throw;
          lost = true;
        }
        if (lost) break;
        if (!item) throw error(errc::protocol_error, "power.Watch ended without an error");
        if (item->what != call_stream::chunk::kind::event) continue;
        v1::PowerEvent e;
        if (!e.ParseFromString(item->bytes))
          throw error(errc::protocol_error, "power.Watch: the agent sent an event that is not a PowerEvent");
        if (on_event) on_event(e);
        if (e.kind() == v1::PowerEvent::KIND_ACTION_FAILED) {
          out.end = follow_end::action_failed;
          out.message = e.message();
          co_return out;
        }
        if (e.kind() == v1::PowerEvent::KIND_ACTION_STARTED) {
          action_started = true;
          if (a == action::halt || a == action::suspend) break;
        }
      }
      if (!lost) {
        // 2a. halt, suspend: the agent stops answering (QEMU keeps the
        // socket open, so the session does not drop), or the session drops.
        for (;;) {
          bool silent = false;
          try {
            co_await guest.ping({}, {std::min(left_until(deadline), milliseconds(3000))});
          } catch (const error& e) {
            if (!e.is_connectivity()) throw;
            silent = true;
          }
          if (silent) {
            if (clock::now() >= deadline) throw error(errc::timeout, "deadline passed");
            out.end = follow_end::down;
            co_return out;
          }
          if (clock::now() + milliseconds(1000) >= deadline) throw error(errc::timeout, "deadline passed");
          asio::steady_timer pause(co_await asio::this_coro::executor, milliseconds(1000));
          auto r = co_await (watch_ends(*watch) || pause.async_wait(use_awaitable));
          if (r.index() == 0) {
            out.end = follow_end::down;
            co_return out;
          }
        }
      }
      watch.reset();

      // 2b. The session dropped.
      if (a == action::halt || a == action::suspend) {
        out.end = follow_end::down;
        co_return out;
      }
      if (a == action::poweroff) {
        const bool gone = co_await socket_gone(socket, deadline);
        if (!gone) throw error(errc::timeout, "the connection dropped but QEMU still serves " + socket);
        out.end = follow_end::down;
        co_return out;
      }
      // reboot: QEMU stays (unless it runs with -no-reboot) and the agent
      // of the next boot opens a new session.
      const bool alive = co_await socket_alive(socket);
      if (!alive)
        throw error(errc::connection_lost, "QEMU exited instead of rebooting the guest (is it run with -no-reboot?)");
      co_await guest.connect({left_until(deadline)});
      const auto info = co_await guest.info({left_until(deadline)});
      if (info.boot_id() != accepted_boot_id) {
        out.end = follow_end::back;
        out.boot_id = info.boot_id();
        co_return out;
      }
      // Same boot: the agent restarted, the reboot is still to come.
      watch = co_await open_watch(guest, deadline);
    }
  } catch (const error& e) {
    if (e.code() == make_error_code(errc::timeout)) {
      out.end = follow_end::timed_out;
      out.message = std::string("the guest was not ") + (a == action::reboot ? "back" : "down") +
                    " by the deadline" + (action_started ? "" : " (the agent had not started the action yet)") +
                    ": " + e.what();
    } else {
      out.end = follow_end::failed;
      out.message = e.what();
    }
  }
  co_return out;
}

v1::PowerRequest make_request(action a, bool host_halt, milliseconds hook_timeout) {
  if (hook_timeout.count() < 0 || hook_timeout > max_hook_timeout)
    throw error(errc::invalid_argument, "power: hook_timeout must be from 0 to " +
                                            std::to_string(max_hook_timeout.count()) + " ms, got " +
                                            std::to_string(hook_timeout.count()) + " ms");
  v1::PowerRequest req;
  req.set_action(to_proto(a));
  req.set_host_halt(host_halt);
  req.set_hook_timeout_ms(static_cast<std::uint32_t>(hook_timeout.count()));
  return req;
}

}  // namespace

const char* to_string(action a) noexcept {
  switch (a) {
    case action::poweroff: return "poweroff";
    case action::reboot: return "reboot";
    case action::halt: return "halt";
    case action::suspend: return "suspend";
  }
  return "?";
}

std::optional<action> parse_action(std::string_view s) noexcept {
  if (s == "poweroff") return action::poweroff;
  if (s == "reboot") return action::reboot;
  if (s == "halt") return action::halt;
  if (s == "suspend") return action::suspend;
  return std::nullopt;
}

v1::PowerAction to_proto(action a) noexcept {
  switch (a) {
    case action::poweroff: return v1::POWER_ACTION_POWEROFF;
    case action::reboot: return v1::POWER_ACTION_REBOOT;
    case action::halt: return v1::POWER_ACTION_HALT;
    case action::suspend: return v1::POWER_ACTION_SUSPEND;
  }
  return v1::POWER_ACTION_UNSPECIFIED;
}

awaitable<outcome> request(client& guest, action a, options opts) {
  const auto req = make_request(a, opts.host_halt, opts.hook_timeout);
  if (opts.wait && opts.wait_timeout.count() <= 0)
    throw error(errc::invalid_argument, "power: wait_timeout must be positive");
  outcome out;
  if (!opts.wait) {
    out.reply = co_await guest.call<v1::PowerReply>("power.Request", req, opts.call);
    co_return out;
  }
  const auto t0 = clock::now();
  const auto deadline = t0 + opts.wait_timeout;
  co_await guest.connect(opts.call);
  auto watch = co_await open_watch(guest, deadline);
  out.reply = co_await guest.call<v1::PowerReply>("power.Request", req, opts.call);
  if (opts.on_accepted) opts.on_accepted(out.reply);
  auto r = co_await follow(guest, std::move(watch), a, out.reply.boot_id(), deadline, opts.on_event);
  switch (r.end) {
    case follow_end::down:
    case follow_end::back:
      out.done = true;
      out.boot_id = r.boot_id;
      out.elapsed = std::chrono::duration_cast<milliseconds>(clock::now() - t0);
      co_return out;
    case follow_end::action_failed:
      throw remote_error(v1::ERROR_CODE_UNAVAILABLE,
                         std::string("power: the guest accepted ") + to_string(a) + " but could not start it: " + r.message);
    case follow_end::timed_out:
      throw error(errc::timeout, std::string("power ") + to_string(a) + ": " + r.message);
    case follow_end::failed:
      break;
  }
  throw error(errc::connection_lost, std::string("power ") + to_string(a) + ": " + r.message);
}

// --- shutdown_all --------------------------------------------------------------

namespace {

// QEMU reports the end: a SHUTDOWN event (the guest powered off; QEMU may
// stay with -no-shutdown) or its QMP socket closing (QEMU exited).
awaitable<follow_result> qemu_down(qmp::client& qemu, std::uint64_t mark, clock::time_point deadline) {
  follow_result out;
  try {
    co_await qemu.wait_event("SHUTDOWN", {}, left_until(deadline), mark);
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

// follow() or qemu_down(), whichever ends first.
awaitable<follow_result> either(awaitable<follow_result> a, awaitable<follow_result> b) {
  auto r = co_await (std::move(a) || std::move(b));
  co_return r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
}

awaitable<guest_result> shutdown_one(guest_config g, shutdown_options opts, clock::time_point deadline) {
  auto ex = co_await asio::this_coro::executor;
  const auto t0 = clock::now();
  guest_result r;
  r.name = g.name;
  auto finish = [&](bool down, std::string detail) {
    r.down = down;
    r.elapsed = std::chrono::duration_cast<milliseconds>(clock::now() - t0);
    r.detail = std::move(detail) + (down ? "; down after " : "; NOT down after ") + seconds_text(r.elapsed);
  };

  // QMP (optional): to see QEMU shut down, and for the ACPI fallback.
  std::unique_ptr<qmp::client> qemu;
  std::string qmp_problem;
  if (!g.qmp.empty()) {
    qmp::options qo;
    qo.socket_path = g.qmp;
    qo.command_timeout = std::min(opts.agent_timeout, milliseconds(5000));
    qemu = std::make_unique<qmp::client>(ex, qo);
    try {
      co_await qemu->connect();
    } catch (const error& e) {
      qmp_problem = e.what();
      qemu.reset();
    }
  }
  const bool tether_alive = co_await socket_alive(g.socket);
  if (!tether_alive && !qemu) {
    r.via = guest_result::how::not_running;
    finish(true, "not running (nothing accepts connections on " + g.socket +
                     (g.qmp.empty() ? std::string() : " or " + g.qmp) + ")");
    co_return r;
  }
  const std::uint64_t mark = qemu ? qemu->event_mark() : 0;

  // Ask the agent.
  client_options co;
  co.socket_path = g.socket;
  co.call_timeout = opts.agent_timeout;
  co.handshake_timeout = opts.agent_timeout;
  client guest(ex, co);
  std::string agent_problem;
  std::unique_ptr<call_stream> watch;
  v1::PowerReply reply;
  try {
    if (!tether_alive) throw error(errc::connection_failed, "nothing accepts connections on " + g.socket);
    co_await guest.connect({opts.agent_timeout});
    watch = co_await open_watch(guest, deadline);
    const auto req = make_request(action::poweroff, true, opts.hook_timeout);
    reply = co_await guest.call<v1::PowerReply>("power.Request", req, {opts.agent_timeout});
  } catch (const error& e) {
    agent_problem = e.what();
    watch.reset();
  }

  if (agent_problem.empty()) {
    std::string how = std::string("agent: poweroff via ") +
                      (reply.method() == v1::POWER_METHOD_LOGIND    ? "logind"
                       : reply.method() == v1::POWER_METHOD_SYSTEMD ? "systemd"
                       : reply.method() == v1::POWER_METHOD_KERNEL  ? "the kernel"
                                                                    : "?") +
                      (reply.simulated() ? " (simulated)" : "") + ", " + std::to_string(reply.hooks_size()) +
                      " host-halt hook(s)";
    int hooks_failed = 0;
    auto on_event = [&hooks_failed](const v1::PowerEvent& e) {
      if (e.kind() == v1::PowerEvent::KIND_HOOK_FINISHED && (e.exit_code() != 0 || e.timed_out())) ++hooks_failed;
    };
    follow_result followed;
    if (qemu)
      followed = co_await either(follow(guest, std::move(watch), action::poweroff, reply.boot_id(), deadline, on_event),
                                 qemu_down(*qemu, mark, deadline));
    else
      followed = co_await follow(guest, std::move(watch), action::poweroff, reply.boot_id(), deadline, on_event);
    if (hooks_failed) how += " (" + std::to_string(hooks_failed) + " failed)";
    r.via = guest_result::how::agent;
    if (followed.end == follow_end::down) {
      finish(true, how);
      co_return r;
    }
    if (followed.end != follow_end::action_failed || !qemu) {
      finish(false, how + "; " + followed.message);
      co_return r;
    }
    agent_problem = "the agent accepted but could not power off: " + followed.message;
  }

  // The agent did not do it: press the ACPI power button.
  if (!qemu) {
    r.via = guest_result::how::none;
    finish(false, "agent did not answer (" + agent_problem + ") and " +
                      (g.qmp.empty() ? std::string("no qmp socket is configured")
                                     : "QMP is not reachable (" + qmp_problem + ")"));
    co_return r;
  }
  r.via = guest_result::how::acpi;
  const std::string why = "agent did not answer (" + agent_problem + "); ACPI power button via QMP";
  try {
    co_await qemu->execute("system_powerdown");
  } catch (const error& e) {
    finish(false, why + " failed: " + e.what());
    co_return r;
  }
  const auto followed = co_await qemu_down(*qemu, mark, deadline);
  finish(followed.end == follow_end::down, followed.end == follow_end::down ? why : why + "; " + followed.message);
  co_return r;
}

}  // namespace

awaitable<std::vector<guest_result>> shutdown_all(asio::any_io_executor ex, std::vector<guest_config> guests,
                                                  shutdown_options opts) {
  if (opts.deadline.count() <= 0 || opts.agent_timeout.count() <= 0)
    throw error(errc::invalid_argument, "shutdown_all: deadline and agent_timeout must be positive");
  (void)make_request(action::poweroff, true, opts.hook_timeout);  // validates hook_timeout
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
