#include "host_session.hpp"

#include "tether/common/frames.hpp"
#include "tether/common/race.hpp"

namespace tether::detail {

namespace {
// Agents may only use a handful of streams per call.
constexpr std::uint32_t max_streams = 16;
}  // namespace

host_session::host_session(asio::any_io_executor ex, const client_options& opts, connection& conn)
    : ex_(std::move(ex)), opts_(opts), conn_(conn) {}

awaitable<std::shared_ptr<pending_call>> host_session::start(std::string method, std::string payload,
                                                             clock::time_point deadline) {
  co_await conn_.wait_connected(deadline);
  if (calls_.size() >= opts_.max_open_calls)
    throw error(errc::limit_exceeded, "too many open calls (limit " + std::to_string(opts_.max_open_calls) + ")");
  auto c = std::make_shared<pending_call>(ex_, next_id_++, conn_.generation(), deadline, opts_.event_window);
  c->method = method;
  v1::Frame f;
  auto* r = f.mutable_request();
  r->set_call_id(c->id);
  r->set_method(std::move(method));
  r->set_payload(std::move(payload));
  if (deadline != clock::time_point::max()) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
    r->set_timeout_ms(static_cast<std::uint32_t>(std::clamp<long long>(left, 1, UINT32_MAX)));
  }
  if (f.ByteSizeLong() > conn_.hello().max_frame_size())
    throw error(errc::limit_exceeded, "request of " + std::to_string(f.ByteSizeLong()) +
                                          " bytes exceeds the agent's frame limit of " +
                                          std::to_string(conn_.hello().max_frame_size()));
  calls_.emplace(c->id, c);
  conn_.writer()->send(f);
  co_return c;
}

awaitable<std::optional<call_stream::chunk>> host_session::next(pending_call& c) {
  for (;;) {
    if (!c.inbound.empty()) {
      auto ch = std::move(c.inbound.front());
      c.inbound.pop_front();
      if (ch.what == call_stream::chunk::kind::event) c.unread_event_bytes -= ch.bytes.size();
      consumed(c, ch);
      co_return ch;
    }
    if (c.done) co_return std::nullopt;
    bool in_time = false;
    try {
      in_time = co_await wait_until(c.changed, c.deadline);
    } catch (const boost::system::system_error& e) {
      if (e.code() != asio::error::operation_aborted) throw;
      abandon(c, errc::cancelled, "call " + c.method + " cancelled by the caller");
      throw error(errc::cancelled, "call " + c.method + " cancelled");
    }
    if (!in_time) {
      abandon(c, errc::timeout, "call " + c.method + " timed out");
      throw error(errc::timeout, "call " + c.method + " did not finish before its deadline");
    }
  }
}

awaitable<std::string> host_session::finish(pending_call& c) {
  // (Not `while (co_await ...)`: GCC 12 miscompiles co_await in conditions.)
  for (;;) {
    auto item = co_await next(c);
    if (!item) break;
  }
  if (c.failure) throw *c.failure;
  co_return std::move(c.reply);
}

awaitable<void> host_session::write(pending_call& c, std::uint32_t stream, std::string_view data) {
  if (stream >= max_streams) throw error(errc::invalid_argument, "stream number out of range");
  while (!data.empty()) {
    if (c.done) throw c.failure ? *c.failure : error(errc::cancelled, "call already finished");
    auto& w = out_window(c, stream);
    std::size_t n = w.try_acquire(std::min(data.size(), wire::max_data_chunk));
    if (n == 0) {
      const bool in_time = co_await wait_until(c.changed, c.deadline);
      if (!in_time) {
        abandon(c, errc::timeout, "call " + c.method + " timed out");
        throw error(errc::timeout, "call " + c.method + " timed out while sending");
      }
      continue;
    }
    v1::Frame f;
    auto* d = f.mutable_data();
    d->set_call_id(c.id);
    d->set_stream(stream);
    d->set_data(data.data(), n);
    send_for(c, f, frame_writer::lane::bulk);
    data.remove_prefix(n);
    // Credits bound each stream; with many streams at once, also keep the
    // connection's queue bounded by letting the writer drain.
    if (auto* writer = conn_.writer()) co_await writer->wait_queued_below(4u << 20);
  }
}

void host_session::close_write(pending_call& c, std::uint32_t stream) {
  send_for(c, frames::end_of_stream(c.id, stream), frame_writer::lane::bulk);
}

void host_session::abandon(pending_call& c, errc why, const std::string& msg) {
  if (c.done) return;
  finish_call(c, error(why, msg));
  send_cancel(c);
}

void host_session::cancel(pending_call& c) {
  if (!c.done) send_cancel(c);
}

// Tells the agent to stop the call, if it was sent on this connection.
void host_session::send_cancel(const pending_call& c) {
  if (c.conn != conn_.generation() || !conn_.established()) return;
  conn_.writer()->send(frames::cancel(c.id));
}

send_window& host_session::out_window(pending_call& c, std::uint32_t stream) {
  auto& w = c.out[stream];
  if (!w) w = std::make_unique<send_window>(ex_, conn_.hello().initial_stream_window());
  return *w;
}

void host_session::send_for(pending_call& c, const v1::Frame& f, frame_writer::lane lane) {
  if (c.conn != conn_.generation() || !conn_.writer()) return;
  conn_.writer()->send(f, lane);
}

void host_session::consumed(pending_call& c, const call_stream::chunk& ch) {
  if (c.done || c.conn != conn_.generation() || !conn_.established()) return;
  std::optional<std::uint64_t> grant;
  std::uint32_t stream = ch.stream;
  if (ch.what == call_stream::chunk::kind::event) {
    grant = c.events_window.on_consumed(1);
    stream = v1::EVENT_STREAM;
  } else if (ch.what == call_stream::chunk::kind::data) {
    grant = c.windows.at(ch.stream).on_consumed(ch.bytes.size());
  }
  if (!grant) return;
  conn_.writer()->send(frames::credit(c.id, stream, *grant));
}

void host_session::finish_call(pending_call& c, std::optional<error> failure) {
  c.done = true;
  c.failure = std::move(failure);
  for (auto& [n, w] : c.out) w->close();
  c.changed.notify_all();
  calls_.erase(c.id);
}

void host_session::fail_all(errc why, const std::string& msg) {
  auto calls = std::move(calls_);
  calls_.clear();
  for (auto& [id, c] : calls) {
    c->done = true;
    c->failure = error(why, msg + " (call " + c->method + ")");
    for (auto& [n, w] : c->out) w->close();
    c->changed.notify_all();
  }
}

void host_session::on_frame(v1::Frame& f) {
  switch (f.body_case()) {
    case v1::Frame::kResponse: {
      auto it = calls_.find(f.response().call_id());
      if (it == calls_.end()) return;
      auto c = it->second;
      auto& r = *f.mutable_response();
      if (r.status().code() == v1::ERROR_CODE_OK) {
        c->reply = std::move(*r.mutable_payload());
        finish_call(*c, std::nullopt);
      } else {
        finish_call(*c, error(wire::make_error_code(r.status().code()), c->method + ": " + r.status().message()));
      }
      return;
    }
    case v1::Frame::kData: {
      auto it = calls_.find(f.data().call_id());
      if (it == calls_.end()) return;
      auto& c = *it->second;
      auto& d = *f.mutable_data();
      if (d.stream() >= max_streams) {
        return protocol_violation(c, "data on stream " + std::to_string(d.stream()));
      }
      auto w = c.windows.try_emplace(d.stream(), opts_.stream_window).first;
      if (!w->second.on_arrival(d.data().size())) return protocol_violation(c, "agent overran the stream credit");
      if (!d.data().empty())
        c.inbound.push_back({call_stream::chunk::kind::data, d.stream(), std::move(*d.mutable_data())});
      if (d.eof()) c.inbound.push_back({call_stream::chunk::kind::eof, d.stream(), {}});
      c.changed.notify_all();
      return;
    }
    case v1::Frame::kEvent: {
      auto it = calls_.find(f.event().call_id());
      if (it == calls_.end()) return;
      auto& c = *it->second;
      if (!c.events_window.on_arrival(1)) return protocol_violation(c, "agent overran the event credit");
      const auto size = f.event().payload().size();
      if (c.unread_event_bytes + size > opts_.max_unread_event_bytes)
        return protocol_violation(c, "agent sent more event bytes than the host holds unread (" +
                                         std::to_string(opts_.max_unread_event_bytes) +
                                         ", client_options.max_unread_event_bytes)");
      c.unread_event_bytes += size;
      c.inbound.push_back({call_stream::chunk::kind::event, 0, std::move(*f.mutable_event()->mutable_payload())});
      c.changed.notify_all();
      return;
    }
    case v1::Frame::kCredit: {
      auto it = calls_.find(f.credit().call_id());
      if (it == calls_.end() || f.credit().stream() >= max_streams) return;
      out_window(*it->second, f.credit().stream()).grant(f.credit().bytes());
      it->second->changed.notify_all();
      return;
    }
    case v1::Frame::kError: {
      const auto& e = f.error();
      if (auto it = calls_.find(e.call_id()); e.call_id() && it != calls_.end()) {
        auto c = it->second;
        finish_call(*c, error(wire::make_error_code(e.status().code()), c->method + ": " + e.status().message()));
      } else {
        last_agent_error_ = e.status().message();
      }
      return;
    }
    default:
      throw error(errc::protocol_error, "agent sent an unexpected frame kind");
  }
}

void host_session::protocol_violation(pending_call& c, const std::string& what) {
  abandon(c, errc::protocol_error, "call " + c.method + ": " + what);
}

}  // namespace tether::detail
