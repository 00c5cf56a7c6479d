#include "power_follow.hpp"

#include <algorithm>
#include <optional>

#include "tether/common/asio.hpp"
#include "tether/common/race.hpp"
#include "tether/v1/forward.pb.h"
#include "typed_call.hpp"

namespace tether::power::detail {

using stream_protocol = asio::local::stream_protocol;

milliseconds left_until(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
  return std::max(left, milliseconds(1));
}

// A refused or missing socket means the process that served it is gone.
awaitable<bool> socket_alive(const std::string& path) {
  stream_protocol::socket s(co_await asio::this_coro::executor);
  boost::system::error_code ec;
  co_await s.async_connect(stream_protocol::endpoint(path), asio::redirect_error(use_awaitable, ec));
  co_return !(ec == boost::system::errc::connection_refused || ec == boost::system::errc::no_such_file_or_directory ||
              ec == boost::system::errc::not_a_directory);
}

awaitable<bool> agent_socket_alive(client& guest, clock::time_point deadline) {
  const auto& o = guest.options();
  if (o.via.empty()) co_return co_await socket_alive(o.socket_path);
  // Through a route the socket lives in the last hop's guest: ask that
  // hop's agent to open it. Its answer to a missing or refused socket
  // (NOT_FOUND, UNAVAILABLE) means the same as here.
  v1::ForwardRequest req;
  req.set_socket_path(o.socket_path);
  try {
    auto probe = co_await guest.hop(o.via.size() - 1).start("forward.Open", req.SerializeAsString(),
                                                            {left_until(deadline)});
    // The "connected" event; a refusal ends the call, and finish() throws it.
    if (!co_await probe->next()) co_await probe->finish();
    probe->cancel();
    co_return true;
  } catch (const error& e) {
    if (e.remote_code() == remote_errc::not_found || e.remote_code() == remote_errc::unavailable) co_return false;
    throw;
  }
}

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

namespace {

awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

// Returns when the watch call ends, for whatever reason (the session
// dropped). Never throws but for cancellation.
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

// How reading the watch ended.
enum class watch_end {
  session_dropped,  // the connection to the agent ended
  action_started,   // halt, suspend: the agent started the action
  action_failed,    // the agent could not start the action
};

struct watched {
  watch_end end = watch_end::session_dropped;
  std::string message;  // action_failed: the agent's reason
};

// Step 1: passes the watch's events on until the session drops or, for halt
// and suspend (which need not end the session), the action started.
awaitable<watched> read_watch(call_stream& watch, action a, bool& action_started,
                              const std::function<void(const event&)>& on_event) {
  for (;;) {
    std::optional<call_stream::chunk> item;
    bool lost = false;
    try {
      item = co_await watch.next();
      if (!item) co_await watch.finish();  // the agent ended the watch: throws why
    } catch (const error& e) {
      if (e.code() != make_error_code(errc::connection_lost)) throw;
      lost = true;
    }
    if (lost) co_return watched{watch_end::session_dropped, {}};
    if (!item) throw error(errc::protocol_error, "power.Watch ended without an error");
    if (item->what != call_stream::chunk::kind::event) continue;
    const auto e = tether::detail::parse<v1::PowerEvent>(item->bytes, "power.Watch");
    if (on_event) on_event(to_event(e));
    if (e.kind() == v1::PowerEvent::KIND_ACTION_FAILED) co_return watched{watch_end::action_failed, e.message()};
    if (e.kind() == v1::PowerEvent::KIND_ACTION_STARTED) {
      action_started = true;
      if (a == action::halt || a == action::suspend) co_return watched{watch_end::action_started, {}};
    }
  }
}

// Returns once the agent stops answering pings (QEMU keeps the socket of a
// halted guest open, so the session need not drop). Throws errc::timeout.
awaitable<void> pings_until_silent(client& guest, clock::time_point deadline) {
  constexpr milliseconds pause_between(1000);
  for (;;) {
    try {
      co_await guest.ping({}, {std::min(left_until(deadline), milliseconds(3000))});
    } catch (const error& e) {
      if (!e.is_connectivity()) throw;
      if (clock::now() >= deadline) throw error(errc::timeout, "deadline passed");
      co_return;
    }
    if (clock::now() + pause_between >= deadline) throw error(errc::timeout, "deadline passed");
    co_await sleep_for(pause_between);
  }
}

// Step 2 for halt and suspend once the action started: the agent stops
// answering, or the session drops (the watch call ends), whichever comes
// first. The watch is read for the whole wait, never cancelled between
// pings: a cancelled watch would end at once on the next look.
awaitable<void> wait_silent(client& guest, call_stream& watch, clock::time_point deadline) {
  if (auto failure = co_await first_to_end(watch_ends(watch), pings_until_silent(guest, deadline)))
    std::rethrow_exception(failure);
}

// Step 2 for poweroff: waits until nothing accepts connections on the
// agent's socket (QEMU exited). QEMU announces nothing on that socket, so
// this probes, 100 ms apart at first, then 1 s. Throws errc::timeout.
awaitable<void> wait_qemu_gone(client& guest, clock::time_point deadline) {
  milliseconds pause(100);
  for (;;) {
    const bool alive = co_await agent_socket_alive(guest, deadline);
    if (!alive) co_return;
    if (clock::now() + pause >= deadline)
      throw error(errc::timeout, "the connection dropped but QEMU still serves " + guest.options().socket_path);
    co_await sleep_for(pause);
    pause = std::min(pause * 2, milliseconds(1000));
  }
}

// Step 2 for reboot: QEMU stays (unless it runs with -no-reboot) and the
// agent of the next boot opens a new session. Returns its boot id, or
// nullopt when the agent serves in the same boot (it only restarted; the
// reboot is still to come).
awaitable<std::optional<std::string>> wait_new_boot(client& guest, const std::string& accepted_boot_id,
                                                    clock::time_point deadline) {
  const bool alive = co_await agent_socket_alive(guest, deadline);
  if (!alive)
    throw error(errc::connection_lost, "QEMU exited instead of rebooting the guest (is it run with -no-reboot?)");
  co_await guest.connect({left_until(deadline)});
  const auto info = co_await guest.info({left_until(deadline)});
  if (info.boot_id == accepted_boot_id) co_return std::nullopt;
  co_return info.boot_id;
}

}  // namespace

awaitable<follow_result> follow(client& guest, std::unique_ptr<call_stream> watch, action a,
                                const std::string& accepted_boot_id, clock::time_point deadline,
                                const std::function<void(const event&)>& on_event) {
  follow_result out;
  bool action_started = false;
  try {
    for (;;) {
      const auto seen = co_await read_watch(*watch, a, action_started, on_event);
      if (seen.end == watch_end::action_failed) {
        out.end = follow_end::action_failed;
        out.message = seen.message;
        co_return out;
      }
      if (seen.end == watch_end::action_started) {
        co_await wait_silent(guest, *watch, deadline);
        out.end = follow_end::down;
        co_return out;
      }
      watch.reset();
      if (a == action::halt || a == action::suspend) {
        out.end = follow_end::down;
        co_return out;
      }
      if (a == action::poweroff) {
        co_await wait_qemu_gone(guest, deadline);
        out.end = follow_end::down;
        co_return out;
      }
      if (auto boot = co_await wait_new_boot(guest, accepted_boot_id, deadline)) {
        out.end = follow_end::back;
        out.boot_id = std::move(*boot);
        co_return out;
      }
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

}  // namespace tether::power::detail
