// The agent's side of one host connection: handshake, call dispatch,
// streams, credits, cancellation. Transport-agnostic (io::byte_stream) and
// service-agnostic (service_registry).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "audit/audit_log.hpp"
#include "tether/agent/service.hpp"
#include "tether/common/byte_stream.hpp"
#include "tether/common/frame_writer.hpp"
#include "tether/wire/codec.hpp"

namespace tether::agent {

struct session_limits {
  std::uint32_t max_frame_size = wire::default_max_frame_size;
  std::uint32_t max_concurrent_calls = 1024;
  // Bytes the host may send on each stream before the agent grants more.
  std::uint32_t initial_stream_window = 2u << 20;
  // Events the host may be sent before it grants more.
  std::uint32_t initial_event_window = 256;
  // Control bytes queued for the host before the agent stops reading it.
  std::size_t max_queued_control_bytes = 8u << 20;
  // Stream numbers a call may use: 0 .. max_streams_per_call-1.
  std::uint32_t max_streams_per_call = 8;
  // Host data buffered for all calls of the session, not yet read by their
  // handlers. The stream windows alone would allow max_concurrent_calls x
  // max_streams_per_call x initial_stream_window (16 GiB by default) from a
  // host that fills streams no handler reads; past this total the call whose
  // data overflows ends with RESOURCE_EXHAUSTED.
  std::uint32_t max_buffered_bytes = 64u << 20;
};

struct call_state;

class session {
 public:
  session(const asio::any_io_executor& ex, io::byte_stream& stream,
          const service_registry& registry, session_limits limits, std::string agent_version,
          audit::audit_log* audit = nullptr);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // Serves until the stream ends or fails; returns once every call of the
  // session has finished (calls are cancelled when the stream ends).
  awaitable<void> run();

  std::size_t active_calls() const noexcept { return calls_.size(); }

 private:
  friend class call_context_impl;

  awaitable<void> read_loop();
  void announce();
  void handle(wire::frame_decoder::item& item);
  void on_hello(const v1::Hello& hello);
  void on_request(v1::Request& req);
  void on_data(v1::StreamData& data);
  void on_credit(const v1::Credit& credit);
  void send_error(v1::ErrorCode code, const std::string& message, std::uint64_t call_id = 0);
  // One line in the audit log (if on) for a call that ended or was refused.
  void audit_call(std::string_view method, std::uint64_t call_id, const audit_summary* summary,
                  const std::string& payload, const v1::Status& status);
  void cancel_all(v1::ErrorCode reason);
  using deadline_map = std::multimap<std::chrono::steady_clock::time_point, std::weak_ptr<call_state>>;
  deadline_map::iterator add_deadline(const std::shared_ptr<call_state>& call,
                                      std::chrono::steady_clock::time_point when);
  void expire_deadlines();
  awaitable<void> run_call(std::shared_ptr<call_state> call, const method_handler& handler);
  void send_for(call_state& call, const v1::Frame& frame, frame_writer::lane lane);
  // A StreamData frame on the bulk lane, encoded without a message copy;
  // with an `owner`, `data` is not copied at all (frame_writer::send_shared).
  void send_data_for(call_state& call, std::uint32_t stream, std::string_view data,
                     const std::shared_ptr<const void>& owner = nullptr);

  asio::any_io_executor ex_;
  io::byte_stream& stream_;
  const service_registry& registry_;
  session_limits limits_;
  audit::audit_log* audit_;  // null: audit off
  wire::frame_decoder decoder_;
  frame_writer writer_;
  session_info info_;
  bool established_ = false;
  std::uint64_t generation_ = 0;  // bumped by each Hello: old calls go silent
  std::uint32_t peer_window_ = 0;     // host's initial stream window
  std::uint32_t peer_max_frame_ = 0;  // host's max frame size
  std::map<std::uint64_t, std::shared_ptr<call_state>> calls_;
  std::uint64_t buffered_bytes_ = 0;  // host data held in inbound streams (max_buffered_bytes)
  async_event calls_changed_;
  deadline_map deadlines_;
  asio::steady_timer deadline_timer_;
  bool deadline_armed_ = false;
  // Dies with the session. A deadline that expired just before the session
  // ended has its handler already queued (cancel() cannot recall it); it
  // may run after ~session and must find this gone (found by
  // agent_session_fuzz: heap-use-after-free in the handler).
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace tether::agent
