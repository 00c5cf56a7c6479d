// The ping and info services, and what the handshake tells about the agent:
// protobuf messages to the public structs of client.hpp.
#include "session_info.hpp"

#include "tether/v1/info.pb.h"
#include "typed_call.hpp"

namespace tether {

using boost::asio::awaitable;

namespace detail {

hello_info to_hello_info(const v1::Hello& h) {
  hello_info out;
  out.protocol_version = h.protocol_version();
  out.session_id = h.session_id();
  out.software_version = h.software_version();
  out.capabilities.assign(h.capabilities().begin(), h.capabilities().end());
  out.max_frame_size = h.max_frame_size();
  out.initial_stream_window = h.initial_stream_window();
  out.max_concurrent_calls = h.max_concurrent_calls();
  return out;
}

namespace {

guest_info to_guest_info(const v1::InfoReply& r) {
  guest_info out;
  out.agent_version = r.agent_version();
  out.protocol_version = r.protocol_version();
  out.services.assign(r.services().begin(), r.services().end());
  out.os_release.insert(r.os_release().begin(), r.os_release().end());
  out.os_pretty_name = r.os_pretty_name();
  out.kernel_name = r.kernel_name();
  out.kernel_release = r.kernel_release();
  out.kernel_version = r.kernel_version();
  out.machine = r.machine();
  out.hostname = r.hostname();
  out.boot_id = r.boot_id();
  out.machine_id = r.machine_id();
  out.uptime_seconds = r.uptime_seconds();
  out.guest_time_ns = r.guest_time_ns();
  out.utc_offset_seconds = r.utc_offset_seconds();
  out.agent_pid = r.agent_pid();
  out.session_id = r.session_id();
  return out;
}

}  // namespace
}  // namespace detail

awaitable<ping_reply> client::ping(std::string payload, call_options opts) {
  v1::PingRequest req;
  req.set_payload(std::move(payload));
  auto r = co_await detail::call<v1::PingReply>(*this, "ping.Ping", req, opts);
  co_return ping_reply{.payload = std::move(*r.mutable_payload()), .guest_time_ns = r.guest_time_ns()};
}

awaitable<guest_info> client::info(call_options opts) {
  co_return detail::to_guest_info(co_await detail::call<v1::InfoReply>(*this, "info.Get", v1::InfoRequest{}, opts));
}

}  // namespace tether
