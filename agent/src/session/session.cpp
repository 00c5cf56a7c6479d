#include "session/session.hpp"

#include <algorithm>
#include <deque>

#include "log.hpp"
#include "session/error_mapping.hpp"
#include "tether/common/flow_control.hpp"
#include "tether/common/frame_reader.hpp"
#include "tether/common/frames.hpp"
#include "tether/common/race.hpp"
#include "tether/common/random.hpp"

namespace tether::agent {


struct inbound_stream {
  inbound_stream(const asio::any_io_executor& ex, std::uint64_t window, std::uint64_t& session_buffered)
      : window(window), arrived(ex), buffered(session_buffered) {}
  // Chunks nobody read leave the session's total with their call.
  ~inbound_stream() {
    for (const auto& c : chunks) buffered -= c.size();
  }
  inbound_stream(const inbound_stream&) = delete;
  inbound_stream& operator=(const inbound_stream&) = delete;
  std::deque<std::string> chunks;
  bool eof = false;
  recv_window window;
  async_event arrived;
  std::uint64_t& buffered;  // session::buffered_bytes_ (calls end before their session)
};

struct call_state {
  call_state(std::uint64_t id_, std::uint64_t gen) : id(id_), generation(gen) {}
  std::uint64_t id;
  std::uint64_t generation;
  std::string method;
  std::string payload;
  const audit_summary* summary = nullptr;  // the registry's, for the audit log
  asio::cancellation_signal cancel;
  v1::ErrorCode cancel_reason = v1::ERROR_CODE_OK;
  bool sent_bulk = false;
  std::map<std::uint32_t, std::unique_ptr<inbound_stream>> in;
  std::map<std::uint32_t, std::unique_ptr<send_window>> out;
  // Created on first use: most calls never emit events, and a window owns a
  // timer, which costs on every call.
  std::unique_ptr<send_window> events;
  std::uint64_t early_event_credit = 0;  // granted before first use
  std::function<void(bool written)> after_reply;
  // Entry in session::deadlines_ while the call runs with a deadline.
  std::optional<std::multimap<std::chrono::steady_clock::time_point,
                              std::weak_ptr<call_state>>::iterator> deadline;
};

class call_context_impl final : public call_context {
 public:
  call_context_impl(tether::agent::session& s, std::shared_ptr<call_state> c) : s_(s), c_(std::move(c)) {}

  std::uint64_t id() const override { return c_->id; }
  const std::string& method() const override { return c_->method; }
  const std::string& payload() const override { return c_->payload; }
  const session_info& session() const override { return s_.info_; }

  awaitable<std::optional<std::string>> read(std::uint32_t stream) override {
    auto& in = inbound(stream);
    while (in.chunks.empty() && !in.eof) co_await in.arrived.wait();
    if (in.chunks.empty()) co_return std::nullopt;
    std::string chunk = std::move(in.chunks.front());
    in.chunks.pop_front();
    in.buffered -= chunk.size();
    if (auto grant = in.window.on_consumed(chunk.size()))
      s_.send_for(*c_, frames::credit(c_->id, stream, *grant), frame_writer::lane::control);
    co_return chunk;
  }

  awaitable<void> write(std::uint32_t stream, std::string_view data) override {
    co_await write_shared(stream, data, nullptr);
  }

  awaitable<void> write_shared(std::uint32_t stream, std::string_view data,
                               std::shared_ptr<const void> owner) override {
    auto& win = outbound(stream);
    const std::size_t chunk_max = std::min<std::size_t>(
        wire::max_data_chunk, s_.peer_max_frame_ > 64 ? s_.peer_max_frame_ - 64 : 64);
    while (!data.empty()) {
      const std::size_t n = co_await win.acquire(std::min(data.size(), chunk_max));
      s_.send_data_for(*c_, stream, data.substr(0, n), owner);
      data.remove_prefix(n);
    }
  }

  void close_write(std::uint32_t stream) override {
    s_.send_for(*c_, frames::end_of_stream(c_->id, stream), frame_writer::lane::bulk);
  }

  awaitable<void> emit(std::string payload) override {
    co_await event_window().acquire(1);
    send_event(std::move(payload));
  }

  bool try_emit(std::string& payload) override {
    if (event_window().try_acquire(1) == 0) return false;
    send_event(std::move(payload));
    return true;
  }

  awaitable<bool> flush() override {
    if (c_->generation != s_.generation_) co_return false;
    const auto control = s_.writer_.queued_position(frame_writer::lane::control);
    const auto bulk = s_.writer_.queued_position(frame_writer::lane::bulk);
    const bool control_written = co_await s_.writer_.wait_written(frame_writer::lane::control, control);
    const bool bulk_written = co_await s_.writer_.wait_written(frame_writer::lane::bulk, bulk);
    co_return control_written && bulk_written && c_->generation == s_.generation_;
  }

  void after_reply(std::function<void(bool written)> fn) override { c_->after_reply = std::move(fn); }

 private:
  void send_event(std::string payload) {
    v1::Frame f;
    auto* e = f.mutable_event();
    e->set_call_id(c_->id);
    e->set_payload(std::move(payload));
    s_.send_for(*c_, f, frame_writer::lane::bulk);
  }

  send_window& event_window() {
    if (!c_->events) {
      c_->events = std::make_unique<send_window>(s_.ex_, s_.limits_.initial_event_window);
      c_->events->grant(std::exchange(c_->early_event_credit, 0));
    }
    return *c_->events;
  }

  inbound_stream& inbound(std::uint32_t stream) {
    if (stream >= s_.limits_.max_streams_per_call)
      throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT, "stream number out of range");
    auto& p = c_->in[stream];
    if (!p) p = std::make_unique<inbound_stream>(s_.ex_, s_.limits_.initial_stream_window, s_.buffered_bytes_);
    return *p;
  }

  send_window& outbound(std::uint32_t stream) {
    auto& p = c_->out[stream];
    if (!p) p = std::make_unique<send_window>(s_.ex_, s_.peer_window_);
    return *p;
  }

  tether::agent::session& s_;
  std::shared_ptr<call_state> c_;
};

session::session(const asio::any_io_executor& ex, io::byte_stream& stream,
                 const service_registry& registry, session_limits limits,
                 std::string agent_version, audit::audit_log* audit)
    : ex_(ex),
      stream_(stream),
      registry_(registry),
      limits_(limits),
      audit_(audit),
      decoder_({.max_frame_size = limits.max_frame_size}),
      writer_(ex),
      calls_changed_(ex),
      deadline_timer_(ex) {
  info_.agent_version = std::move(agent_version);
  info_.services = registry.enabled_services();
  info_.protocol_version = wire::protocol_version;
}

session::~session() = default;

awaitable<void> session::run() {
  announce();
  const auto ended = co_await first_to_end(read_loop(), writer_.run(stream_));
  if (ended) {
    try {
      std::rethrow_exception(ended);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted)
        log::info("session on {} ended: {}", stream_.describe(), e.code().message());
    } catch (const std::exception& e) {
      log::warning("session on {} failed: {}", stream_.describe(), e.what());
    }
  }
  writer_.stop();
  deadline_timer_.cancel();
  cancel_all(v1::ERROR_CODE_CANCELLED);
  // Calls reference this session: wait for all of them. Handlers honour
  // cancellation, so this is quick; complain if one does not.
  // Also when this session itself was cancelled (agent stop with a host
  // connected): the waits must not throw then, or the calls outlive it.
  co_await asio::this_coro::throw_if_cancelled(false);
  bool warned = false;
  while (!calls_.empty()) {
    const bool changed = co_await wait_until(calls_changed_, deadline_clock::now() + 5s);
    if (!changed && !warned) {
      warned = true;
      log::warning("{} call(s) still running 5 s after the session ended", calls_.size());
    }
  }
  co_await asio::this_coro::throw_if_cancelled(true);
}

awaitable<void> session::read_loop() {
  co_await read_frames(
      stream_, decoder_, [this](wire::frame_decoder::item& item) { handle(item); },
      [this] { return writer_.wait_control_below(limits_.max_queued_control_bytes); });
}

void session::handle(wire::frame_decoder::item& item) {
  using kind = wire::frame_decoder::item::kind;
  if (item.what == kind::preamble) return;  // the Hello that follows decides
  if (item.what == kind::error) {
    if (!established_) return;  // nothing to say to a peer that has not said hello
    switch (item.error) {
      case wire::codec_error::frame_too_large:
        send_error(v1::ERROR_CODE_FRAME_TOO_LARGE,
                   "frame of " + std::to_string(item.length) + " bytes exceeds the agent's limit of " +
                       std::to_string(limits_.max_frame_size) + " bytes; it was discarded");
        return;
      case wire::codec_error::malformed_frame:
        send_error(v1::ERROR_CODE_PROTOCOL_ERROR, "malformed frame discarded");
        return;
      case wire::codec_error::bad_frame_magic:
        send_error(v1::ERROR_CODE_PROTOCOL_ERROR,
                   "lost frame synchronisation; send a preamble and Hello to resume");
        return;
    }
    return;
  }
  auto& f = item.frame;
  switch (f.body_case()) {
    case v1::Frame::kHello: on_hello(f.hello()); break;
    case v1::Frame::kRequest:
      if (established_) on_request(*f.mutable_request());
      break;
    case v1::Frame::kData:
      if (established_) on_data(*f.mutable_data());
      break;
    case v1::Frame::kCredit:
      if (established_) on_credit(f.credit());
      break;
    case v1::Frame::kCancel:
      if (auto it = calls_.find(f.cancel().call_id()); it != calls_.end()) {
        it->second->cancel_reason = v1::ERROR_CODE_CANCELLED;
        it->second->cancel.emit(asio::cancellation_type::terminal);
      }
      break;
    case v1::Frame::kError:
      log::info("host reported: {}", f.error().status().message());
      break;
    default:
      if (established_) send_error(v1::ERROR_CODE_PROTOCOL_ERROR, "unexpected frame kind from host");
      break;
  }
}

void session::on_hello(const v1::Hello& hello) {
  if (hello.role() != v1::Hello::ROLE_HOST) return;
  if (hello.protocol_version() != wire::protocol_version) {
    writer_.send_raw(frames::with_preamble(frames::error(
        v1::ERROR_CODE_PROTOCOL_ERROR, "agent speaks protocol " + std::to_string(wire::protocol_version) +
                                           ", host asked for " + std::to_string(hello.protocol_version()))));
    return;
  }
  if (established_) {
    // A new host connection on the same port: the old one's work ends here.
    log::info("new Hello on {}: restarting the session", stream_.describe());
    cancel_all(v1::ERROR_CODE_CANCELLED);
    writer_.clear();
  }
  ++generation_;
  established_ = true;
  peer_window_ = std::min<std::uint32_t>(hello.initial_stream_window(), 64u << 20);
  peer_max_frame_ = hello.max_frame_size() ? hello.max_frame_size() : wire::default_max_frame_size;
  info_.session_id = random_bytes(16);

  auto f = frames::hello(v1::Hello::ROLE_AGENT, info_.agent_version);
  auto* h = f.mutable_hello();
  h->set_session_id(info_.session_id);
  h->set_nonce(hello.nonce());
  for (const auto& s : info_.services) h->add_capabilities(s);
  h->set_max_frame_size(limits_.max_frame_size);
  h->set_initial_stream_window(limits_.initial_stream_window);
  h->set_max_concurrent_calls(limits_.max_concurrent_calls);
  writer_.send_raw(frames::with_preamble(f));
}

void session::announce() {
  // An unsolicited Hello (no nonce) tells a host that was already connected
  // (port re-plugged, agent restarted) that its old session is gone, so it
  // re-handshakes at once instead of waiting for its calls to time out. A
  // host still handshaking ignores it: the nonce does not match its own.
  writer_.send_raw(frames::with_preamble(frames::hello(v1::Hello::ROLE_AGENT, info_.agent_version)));
}

void session::send_error(v1::ErrorCode code, const std::string& message, std::uint64_t call_id) {
  writer_.send(frames::error(code, message, call_id));
}

void session::on_request(v1::Request& req) {
  const auto id = req.call_id();
  const auto found = registry_.find(req.method());
  auto respond_error = [&](v1::ErrorCode code, std::string msg) {
    v1::Status status;
    status.set_code(code);
    status.set_message(msg);
    audit_call(req.method(), id, found.summary, req.payload(), status);
    writer_.send(frames::error_response(id, code, std::move(msg)));
  };
  if (calls_.contains(id))
    return respond_error(v1::ERROR_CODE_DUPLICATE_CALL_ID,
                         "call id " + std::to_string(id) + " is already running");
  if (calls_.size() >= limits_.max_concurrent_calls)
    return respond_error(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                         "too many concurrent calls (limit " +
                             std::to_string(limits_.max_concurrent_calls) + ")");
  if (found.disabled)
    return respond_error(v1::ERROR_CODE_DISABLED_BY_CONFIG,
                         req.method() + " is disabled by the agent's configuration" +
                             (found.disabled_reason.empty() ? "" : ": " + std::string(found.disabled_reason)));
  if (!found.handler)
    // The name is the host's: quoted in part, so a huge one cannot make the answer outgrow the host's frames.
    return respond_error(v1::ERROR_CODE_UNKNOWN_METHOD,
                         "unknown method '" + req.method().substr(0, 128) + (req.method().size() > 128 ? "...'" : "'"));

  auto call = std::make_shared<call_state>(id, generation_);
  call->method = std::move(*req.mutable_method());
  call->payload = std::move(*req.mutable_payload());
  call->summary = found.summary;
  calls_.emplace(id, call);
  if (req.timeout_ms() > 0)
    call->deadline = add_deadline(call, std::chrono::steady_clock::now() +
                                            std::chrono::milliseconds(req.timeout_ms()));
  asio::co_spawn(ex_, run_call(call, *found.handler),
                 asio::bind_cancellation_slot(call->cancel.slot(), [this, call](std::exception_ptr) {
                   if (auto it = calls_.find(call->id); it != calls_.end() && it->second == call)
                     calls_.erase(it);
                   calls_changed_.notify_all();
                 }));
}

awaitable<void> session::run_call(std::shared_ptr<call_state> call, const method_handler& handler) {
  v1::Frame f;
  auto* resp = f.mutable_response();
  resp->set_call_id(call->id);
  try {
    call_context_impl ctx(*this, call);
    std::string payload = co_await handler(ctx);
    resp->set_payload(std::move(payload));
    resp->mutable_status()->set_code(v1::ERROR_CODE_OK);
  } catch (...) {
    *resp->mutable_status() = status_for(std::current_exception(), call->cancel_reason);
    if (resp->status().code() == v1::ERROR_CODE_INTERNAL)
      log::error("{} (call {}) failed: {}", call->method, call->id, resp->status().message());
  }
  audit_call(call->method, call->id, call->summary, call->payload, resp->status());
  for (auto& [n, w] : call->out) w->close();
  if (call->events) call->events->close();
  if (call->deadline) deadlines_.erase(*std::exchange(call->deadline, std::nullopt));
  // Data already queued in the bulk lane must reach the host before the end.
  const auto lane = call->sent_bulk ? frame_writer::lane::bulk : frame_writer::lane::control;
  send_for(*call, f, lane);
  if (!call->after_reply) co_return;
  bool written = false;
  if (call->generation == generation_) {
    const auto position = writer_.queued_position(lane);
    try {
      written = co_await writer_.wait_written(lane, position);
    } catch (const boost::system::system_error&) {
      // Cancelled while waiting (session ending): not written.
    }
    written = written && call->generation == generation_;
  }
  std::exchange(call->after_reply, nullptr)(written);
}

void session::audit_call(std::string_view method, std::uint64_t call_id, const audit_summary* summary,
                         const std::string& payload, const v1::Status& status) {
  if (!audit_ || !audit_->admit()) return;
  audit::call_record r{.method = method,
                       .session_id = info_.session_id,
                       .call_id = call_id,
                       .code = status.code(),
                       .message = status.message()};
  if (summary && *summary) {
    try {
      r.target = (*summary)(payload);
    } catch (const std::exception& e) {
      r.target = {"(no summary: " + std::string(e.what()) + ")"};
    }
  }
  audit_->write(r);
}

void session::send_for(call_state& call, const v1::Frame& frame, frame_writer::lane lane) {
  if (call.generation != generation_) return;  // the host that asked is gone
  if (lane == frame_writer::lane::bulk) call.sent_bulk = true;
  writer_.send(frame, lane);
}

void session::send_data_for(call_state& call, std::uint32_t stream, std::string_view data,
                            const std::shared_ptr<const void>& owner) {
  if (call.generation != generation_) return;
  call.sent_bulk = true;
  std::string bytes;
  if (owner) {
    wire::append_data_frame_head(bytes, call.id, stream, data.size());
    writer_.send_shared(std::move(bytes), data, owner, frame_writer::lane::bulk);
    return;
  }
  wire::append_data_frame(bytes, call.id, stream, data);
  writer_.send_raw(std::move(bytes), frame_writer::lane::bulk);
}

void session::on_data(v1::StreamData& data) {
  auto it = calls_.find(data.call_id());
  if (it == calls_.end()) return;  // call just ended; data in flight is dropped
  auto& call = *it->second;
  if (data.stream() >= limits_.max_streams_per_call) {
    call.cancel_reason = v1::ERROR_CODE_PROTOCOL_ERROR;
    call.cancel.emit(asio::cancellation_type::terminal);
    return;
  }
  auto& p = call.in[data.stream()];
  if (!p) p = std::make_unique<inbound_stream>(ex_, limits_.initial_stream_window, buffered_bytes_);
  if (!p->window.on_arrival(data.data().size())) {
    log::warning("call {}: host overran its stream credit; cancelling the call", call.id);
    call.cancel_reason = v1::ERROR_CODE_PROTOCOL_ERROR;
    call.cancel.emit(asio::cancellation_type::terminal);
    return;
  }
  if (buffered_bytes_ + data.data().size() > limits_.max_buffered_bytes) {
    if (call.cancel_reason == v1::ERROR_CODE_OK)  // once per call, not per frame
      log::warning("call {}: host data not yet read by the agent would exceed {} bytes; cancelling the call", call.id,
                 limits_.max_buffered_bytes);
    call.cancel_reason = v1::ERROR_CODE_RESOURCE_EXHAUSTED;
    call.cancel.emit(asio::cancellation_type::terminal);
    return;
  }
  buffered_bytes_ += data.data().size();
  if (!data.data().empty()) p->chunks.push_back(std::move(*data.mutable_data()));
  if (data.eof()) p->eof = true;
  p->arrived.notify_all();
}

void session::on_credit(const v1::Credit& credit) {
  auto it = calls_.find(credit.call_id());
  if (it == calls_.end()) return;
  auto& call = *it->second;
  if (credit.stream() == v1::EVENT_STREAM) {
    if (call.events)
      call.events->grant(credit.bytes());
    else
      call.early_event_credit = std::min<std::uint64_t>(call.early_event_credit + credit.bytes(), UINT32_MAX);
    return;
  }
  if (credit.stream() >= limits_.max_streams_per_call) return;
  auto& w = call.out[credit.stream()];
  if (!w) w = std::make_unique<send_window>(ex_, peer_window_);
  w->grant(credit.bytes());
}

// One timer for all call deadlines, re-armed only when a nearer deadline
// arrives: a per-call timer would cost two timerfd syscalls on every call.
session::deadline_map::iterator session::add_deadline(const std::shared_ptr<call_state>& call,
                                                      std::chrono::steady_clock::time_point when) {
  auto it = deadlines_.emplace(when, call);
  if (!deadline_armed_ || when < deadline_timer_.expiry()) {
    deadline_armed_ = true;
    deadline_timer_.expires_at(when);
    deadline_timer_.async_wait([this, alive = std::weak_ptr<const bool>(alive_)](const boost::system::error_code& ec) {
      if (ec || alive.expired()) return;  // re-armed (a newer wait is pending) or session ended
      deadline_armed_ = false;
      expire_deadlines();
    });
  }
  return it;
}

void session::expire_deadlines() {
  const auto now = std::chrono::steady_clock::now();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto c = deadlines_.begin()->second.lock();
    deadlines_.erase(deadlines_.begin());
    if (!c) continue;
    c->deadline.reset();
    c->cancel_reason = v1::ERROR_CODE_DEADLINE_EXCEEDED;
    c->cancel.emit(asio::cancellation_type::terminal);
  }
  if (!deadlines_.empty()) {
    auto next = deadlines_.begin();
    const auto when = next->first;  // read before erase frees the node
    auto call = next->second.lock();
    deadlines_.erase(next);
    if (call) call->deadline = add_deadline(call, when);
    else expire_deadlines();
  }
}

void session::cancel_all(v1::ErrorCode reason) {
  // Copy: emitting may complete calls and erase them.
  auto calls = calls_;
  for (auto& [id, c] : calls) {
    c->cancel_reason = reason;
    c->cancel.emit(asio::cancellation_type::terminal);
  }
}

}  // namespace tether::agent
