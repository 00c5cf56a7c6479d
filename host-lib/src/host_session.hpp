// The host's side of a session, mirroring the agent's session: calls
// (request, response, deadline), their streams and events under credit flow
// control, and cancellation. Sends through the connection (connection.hpp)
// and handles the frames it receives. Internal to libtether.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "connection.hpp"
#include "tether/common/flow_control.hpp"

namespace tether {

// One call the host started (named in client.hpp, so in namespace tether).
struct pending_call {
  pending_call(const asio::any_io_executor& ex, std::uint64_t id_, std::uint64_t conn_,
               detail::clock::time_point deadline_, std::uint32_t event_window)
      : id(id_), conn(conn_), deadline(deadline_), changed(ex), events_window(event_window) {}

  std::uint64_t id;
  std::uint64_t conn;  // connection generation the call was sent on
  detail::clock::time_point deadline;
  std::string method;
  async_event changed;
  std::deque<call_stream::chunk> inbound;
  std::map<std::uint32_t, recv_window> windows;
  recv_window events_window;
  std::uint64_t unread_event_bytes = 0;  // client_options::max_unread_event_bytes
  std::map<std::uint32_t, std::unique_ptr<send_window>> out;
  bool done = false;
  std::optional<error> failure;  // local failure, or remote status
  std::string reply;
};

namespace detail {

class host_session {
 public:
  host_session(asio::any_io_executor ex, const client_options& opts, connection& conn);

  // Sends a Request once connected (waiting for the connection counts
  // against the deadline).
  awaitable<std::shared_ptr<pending_call>> start(std::string method, std::string payload,
                                                 clock::time_point deadline);
  // Waits for the call's next item or end, honouring its deadline.
  awaitable<std::optional<call_stream::chunk>> next(pending_call& c);
  // Reads to the end; the reply payload, or throws the call's failure.
  awaitable<std::string> finish(pending_call& c);
  awaitable<void> write(pending_call& c, std::uint32_t stream, std::string_view data);
  void close_write(pending_call& c, std::uint32_t stream);
  // The caller no longer waits: tell the agent, and forget the call.
  void abandon(pending_call& c, errc why, const std::string& msg);
  void cancel(pending_call& c);

  // From the connection: a frame of the established session.
  void on_frame(v1::Frame& f);
  // From the connection: every open call fails with `why`.
  void fail_all(errc why, const std::string& msg);

 private:
  void send_cancel(const pending_call& c);
  send_window& out_window(pending_call& c, std::uint32_t stream);
  void send_for(pending_call& c, const v1::Frame& f, frame_writer::lane lane);
  void consumed(pending_call& c, const call_stream::chunk& ch);
  void finish_call(pending_call& c, std::optional<error> failure);
  void protocol_violation(pending_call& c, const std::string& what);

  asio::any_io_executor ex_;
  const client_options& opts_;
  connection& conn_;
  std::map<std::uint64_t, std::shared_ptr<pending_call>> calls_;
  std::string last_agent_error_;
  std::uint64_t next_id_ = 1;
};

}  // namespace detail
}  // namespace tether
