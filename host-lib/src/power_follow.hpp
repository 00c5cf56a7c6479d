// What power.Request and shutdown_all share: the request message, the
// conversion of the agent's answers, and following a guest down through a
// power.Watch call (request() documents when a guest counts as down).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "tether/power.hpp"
#include "tether/v1/power.pb.h"

namespace tether::power::detail {

using clock = std::chrono::steady_clock;

// Time left until `deadline`, at least 1 ms (a call needs a positive one).
milliseconds left_until(clock::time_point deadline);
// Whether anything (QEMU) still accepts connections on the unix socket `path`.
boost::asio::awaitable<bool> socket_alive(const std::string& path);
// The same for the guest's agent socket, through its route if it has one
// (asked of the last hop's agent). Throws tether::error if that hop fails.
boost::asio::awaitable<bool> agent_socket_alive(client& guest, clock::time_point deadline);

// A power.Request; throws invalid_argument for a hook_timeout out of range.
v1::PowerRequest make_request(action a, bool host_halt, milliseconds hook_timeout);
reply to_reply(const v1::PowerReply& r);
event to_event(const v1::PowerEvent& e);

// Opens power.Watch (running until `deadline`) and waits for its first
// event, so that everything after it is seen.
boost::asio::awaitable<std::unique_ptr<call_stream>> open_watch(client& guest, clock::time_point deadline);

enum class follow_end { down, back, action_failed, timed_out, failed };

struct follow_result {
  follow_end end = follow_end::failed;
  std::string message;
  std::string boot_id;  // back: the new boot
};

// Follows the guest through `watch` until the action started and the guest
// is down (or back, for reboot). Never throws (cancellation aside): the
// caller decides what a failure means.
boost::asio::awaitable<follow_result> follow(client& guest, std::unique_ptr<call_stream> watch, action a,
                                             const std::string& accepted_boot_id, clock::time_point deadline,
                                             const std::function<void(const event&)>& on_event);

}  // namespace tether::power::detail
