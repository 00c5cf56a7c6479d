// power::request: ask one guest for an action and, with wait, follow it
// down (power_follow.cpp); the wire conversions of the power service.
#include "power_follow.hpp"
#include "tether/common/asio.hpp"
#include "typed_call.hpp"

namespace tether::power {

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

const char* to_string(method m) noexcept {
  switch (m) {
    case method::logind: return "logind";
    case method::systemd: return "systemd";
    case method::kernel: return "kernel";
    case method::unspecified: break;
  }
  return "unspecified";
}

namespace detail {
namespace {

v1::PowerAction to_proto(action a) noexcept {
  switch (a) {
    case action::poweroff: return v1::POWER_ACTION_POWEROFF;
    case action::reboot: return v1::POWER_ACTION_REBOOT;
    case action::halt: return v1::POWER_ACTION_HALT;
    case action::suspend: return v1::POWER_ACTION_SUSPEND;
  }
  return v1::POWER_ACTION_UNSPECIFIED;
}

std::optional<action> from_proto(v1::PowerAction a) noexcept {
  switch (a) {
    case v1::POWER_ACTION_POWEROFF: return action::poweroff;
    case v1::POWER_ACTION_REBOOT: return action::reboot;
    case v1::POWER_ACTION_HALT: return action::halt;
    case v1::POWER_ACTION_SUSPEND: return action::suspend;
    default: return std::nullopt;
  }
}

method from_proto(v1::PowerMethod m) noexcept {
  switch (m) {
    case v1::POWER_METHOD_LOGIND: return method::logind;
    case v1::POWER_METHOD_SYSTEMD: return method::systemd;
    case v1::POWER_METHOD_KERNEL: return method::kernel;
    default: return method::unspecified;
  }
}

event::kind from_proto(v1::PowerEvent::Kind k) noexcept {
  switch (k) {
    case v1::PowerEvent::KIND_WATCHING: return event::kind::watching;
    case v1::PowerEvent::KIND_ACCEPTED: return event::kind::accepted;
    case v1::PowerEvent::KIND_HOOK_STARTED: return event::kind::hook_started;
    case v1::PowerEvent::KIND_HOOK_FINISHED: return event::kind::hook_finished;
    case v1::PowerEvent::KIND_ACTION_STARTED: return event::kind::action_started;
    case v1::PowerEvent::KIND_ACTION_FAILED: return event::kind::action_failed;
    default: return event::kind::unspecified;
  }
}

}  // namespace

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

reply to_reply(const v1::PowerReply& r) {
  return {.method = from_proto(r.method()), .hooks = {r.hooks().begin(), r.hooks().end()},
          .skipped = {r.skipped().begin(), r.skipped().end()}, .boot_id = r.boot_id(), .simulated = r.simulated()};
}

event to_event(const v1::PowerEvent& e) {
  return {.what = from_proto(e.kind()), .action = from_proto(e.action()), .method = from_proto(e.method()),
          .hook = e.hook(), .exit_code = e.exit_code(), .signal = e.signal(), .timed_out = e.timed_out(),
          .run_time_ms = e.run_time_ms(), .message = e.message(), .host_halt = e.host_halt()};
}

}  // namespace detail

awaitable<outcome> request(client& guest, action a, options opts, call_options call) {
  const auto req = detail::make_request(a, opts.host_halt, opts.hook_timeout);
  if (opts.wait && opts.wait_timeout.count() <= 0)
    throw error(errc::invalid_argument, "power: wait_timeout must be positive");
  outcome out;
  if (!opts.wait) {
    out.reply = detail::to_reply(co_await tether::detail::call<v1::PowerReply>(guest, "power.Request", req, call));
    co_return out;
  }
  const auto t0 = detail::clock::now();
  const auto deadline = t0 + opts.wait_timeout;
  co_await guest.connect(call);
  auto watch = co_await detail::open_watch(guest, deadline);
  out.reply = detail::to_reply(co_await tether::detail::call<v1::PowerReply>(guest, "power.Request", req, call));
  if (opts.on_accepted) opts.on_accepted(out.reply);
  auto r = co_await detail::follow(guest, std::move(watch), a, out.reply.boot_id, deadline, opts.on_event);
  switch (r.end) {
    case detail::follow_end::down:
    case detail::follow_end::back:
      out.done = true;
      out.boot_id = r.boot_id;
      out.elapsed = std::chrono::duration_cast<milliseconds>(detail::clock::now() - t0);
      co_return out;
    case detail::follow_end::action_failed:
      throw error(make_error_code(remote_errc::unavailable),
                  std::string("power: the guest accepted ") + to_string(a) + " but could not start it: " + r.message);
    case detail::follow_end::timed_out:
      throw error(errc::timeout, std::string("power ") + to_string(a) + ": " + r.message);
    case detail::follow_end::failed:
      break;
  }
  throw error(errc::connection_lost, std::string("power ") + to_string(a) + ": " + r.message);
}

}  // namespace tether::power
