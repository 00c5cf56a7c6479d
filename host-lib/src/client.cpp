#include "tether/client.hpp"

#include <sys/random.h>

#include <deque>
#include <map>

#include "session_info.hpp"
#include "tether/common/flow_control.hpp"
#include "tether/common/frame_writer.hpp"
#include "tether/common/unix_stream.hpp"
#include "tether/wire/codec.hpp"

namespace tether {

using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
using stream_protocol = asio::local::stream_protocol;

namespace {

std::string random_nonce() {
  std::string s(16, '\0');
  std::size_t got = 0;
  while (got < s.size()) {
    ssize_t r = ::getrandom(s.data() + got, s.size() - got, 0);
    if (r > 0) got += static_cast<std::size_t>(r);
  }
  return s;
}

// Agents may only use a handful of streams per call.
constexpr std::uint32_t max_streams = 16;

// Waits for `ev` or the deadline; false when the deadline passed.
awaitable<bool> wait_until(async_event& ev, clock::time_point deadline) {
  if (deadline == clock::time_point::max()) {
    co_await ev.wait();
    co_return true;
  }
  asio::steady_timer t(co_await asio::this_coro::executor, deadline);
  auto r = co_await (ev.wait() || t.async_wait(use_awaitable));
  co_return r.index() == 0;
}

}  // namespace

struct pending_call {
  pending_call(const asio::any_io_executor& ex, std::uint64_t id_, std::uint64_t conn_,
               clock::time_point deadline_, std::uint32_t event_window)
      : id(id_), conn(conn_), deadline(deadline_), changed(ex), events_window(event_window) {}

  std::uint64_t id;
  std::uint64_t conn;  // connection generation the call was sent on
  clock::time_point deadline;
  std::string method;
  async_event changed;
  std::deque<call_stream::chunk> inbound;
  std::map<std::uint32_t, recv_window> windows;
  recv_window events_window;
  std::map<std::uint32_t, std::unique_ptr<send_window>> out;
  bool done = false;
  std::optional<error> failure;  // local failure, or remote status
  std::string reply;
};

class client_impl : public std::enable_shared_from_this<client_impl> {
 public:
  client_impl(asio::any_io_executor ex, client_options o)
      : ex_(std::move(ex)), opts_(std::move(o)), state_changed_(ex_), backoff_timer_(ex_) {}

  const client_options& options() const { return opts_; }
  bool connected() const { return established_; }
  std::optional<v1::Hello> agent_hello() const {
    if (!established_) return std::nullopt;
    return hello_;
  }

  clock::time_point deadline_for(call_options o) const {
    auto t = o.timeout.count() == 0 ? opts_.call_timeout : o.timeout;
    if (t == milliseconds::max()) return clock::time_point::max();
    return clock::now() + t;
  }

  void ensure_running() {
    if (running_ || closed_) return;
    running_ = true;
    asio::co_spawn(ex_, connection_loop(shared_from_this()), asio::detached);
  }

  awaitable<void> wait_connected(clock::time_point deadline) {
    ensure_running();
    while (!established_) {
      if (closed_) throw error(errc::closed, "tether client is closed");
      const bool in_time = co_await wait_until(state_changed_, deadline);
      if (!in_time) {
        std::string why = last_error_.empty() ? std::string("no answer yet") : last_error_;
        throw error(errc::timeout, "no tether session with " + opts_.socket_path +
                                       " before the deadline: " + why);
      }
    }
  }

  awaitable<std::shared_ptr<pending_call>> start(std::string method, std::string payload,
                                                 call_options o) {
    const auto deadline = deadline_for(o);
    co_await wait_connected(deadline);
    if (calls_.size() >= opts_.max_open_calls)
      throw error(errc::limit_exceeded, "too many open calls (limit " +
                                            std::to_string(opts_.max_open_calls) + ")");
    auto c = std::make_shared<pending_call>(ex_, next_id_++, conn_gen_, deadline, opts_.event_window);
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
    if (f.ByteSizeLong() > hello_.max_frame_size())
      throw error(errc::limit_exceeded, "request of " + std::to_string(f.ByteSizeLong()) +
                                            " bytes exceeds the agent's frame limit of " +
                                            std::to_string(hello_.max_frame_size()));
    calls_.emplace(c->id, c);
    writer_->send(f);
    co_return c;
  }

  // Waits for the call's next item or end, honouring its deadline.
  awaitable<std::optional<call_stream::chunk>> next(pending_call& c) {
    for (;;) {
      if (!c.inbound.empty()) {
        auto ch = std::move(c.inbound.front());
        c.inbound.pop_front();
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

  awaitable<std::string> finish(pending_call& c) {
    // (Not `while (co_await ...)`: GCC 12 miscompiles co_await in conditions.)
    for (;;) {
      auto item = co_await next(c);
      if (!item) break;
    }
    if (c.failure) throw *c.failure;
    co_return std::move(c.reply);
  }

  awaitable<void> write(pending_call& c, std::uint32_t stream, std::string_view data) {
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
      // Let the writer drain before queueing far beyond the window.
      co_await writer_wait(c);
    }
  }

  void close_write(pending_call& c, std::uint32_t stream) {
    v1::Frame f;
    auto* d = f.mutable_data();
    d->set_call_id(c.id);
    d->set_stream(stream);
    d->set_eof(true);
    send_for(c, f, frame_writer::lane::bulk);
  }

  // The caller no longer waits: tell the agent, and forget the call.
  void abandon(pending_call& c, errc why, const std::string& msg) {
    if (c.done) return;
    finish_call(c, error(why, msg));
    send_cancel(c);
  }

  void cancel(pending_call& c) {
    if (!c.done) send_cancel(c);
  }

  // Tells the agent to stop the call, if it was sent on this connection.
  void send_cancel(const pending_call& c) {
    if (c.conn != conn_gen_ || !established_) return;
    v1::Frame f;
    f.mutable_cancel()->set_call_id(c.id);
    writer_->send(f);
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    fail_all(errc::closed, "tether client closed");
    drop_connection();
    backoff_timer_.cancel();
    state_changed_.notify_all();
  }

 private:
  send_window& out_window(pending_call& c, std::uint32_t stream) {
    auto& w = c.out[stream];
    if (!w) w = std::make_unique<send_window>(ex_, hello_.initial_stream_window());
    return *w;
  }

  // Credits bound each stream; with many streams at once, also keep the
  // connection's queue bounded by letting the writer drain.
  awaitable<void> writer_wait(pending_call&) {
    if (writer_) co_await writer_->wait_queued_below(4u << 20);
  }

  void send_for(pending_call& c, const v1::Frame& f, frame_writer::lane lane) {
    if (c.conn != conn_gen_ || !writer_) return;
    writer_->send(f, lane);
  }

  void consumed(pending_call& c, const call_stream::chunk& ch) {
    if (c.done || c.conn != conn_gen_ || !established_) return;
    std::optional<std::uint64_t> grant;
    std::uint32_t stream = ch.stream;
    if (ch.what == call_stream::chunk::kind::event) {
      grant = c.events_window.on_consumed(1);
      stream = v1::EVENT_STREAM;
    } else if (ch.what == call_stream::chunk::kind::data) {
      grant = c.windows.at(ch.stream).on_consumed(ch.bytes.size());
    }
    if (!grant) return;
    v1::Frame f;
    auto* cr = f.mutable_credit();
    cr->set_call_id(c.id);
    cr->set_stream(stream);
    cr->set_bytes(*grant);
    writer_->send(f);
  }

  void finish_call(pending_call& c, std::optional<error> failure) {
    c.done = true;
    c.failure = std::move(failure);
    for (auto& [n, w] : c.out) w->close();
    c.changed.notify_all();
    calls_.erase(c.id);
  }

  void fail_all(errc why, const std::string& msg) {
    auto calls = std::move(calls_);
    calls_.clear();
    for (auto& [id, c] : calls) {
      c->done = true;
      c->failure = error(why, msg + " (call " + c->method + ")");
      for (auto& [n, w] : c->out) w->close();
      c->changed.notify_all();
    }
  }

  void drop_connection() {
    established_ = false;
    if (writer_) writer_->stop();
    if (stream_) stream_->close();
  }

  static awaitable<void> connection_loop(std::shared_ptr<client_impl> self) {
    auto backoff = self->opts_.reconnect_min;
    while (!self->closed_) {
      const bool served = co_await self->connect_and_serve();
      if (self->closed_) break;
      if (served) backoff = self->opts_.reconnect_min;
      self->backoff_timer_.expires_after(backoff);
      boost::system::error_code ec;
      co_await self->backoff_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
      backoff = std::min(backoff * 2, self->opts_.reconnect_max);
    }
    self->running_ = false;
  }

  // One connection: connect, handshake, serve. Returns true if a session was
  // established. Never throws.
  awaitable<bool> connect_and_serve() {
    bool established_once = false;
    stream_protocol::socket sock(ex_);
    boost::system::error_code ec;
    co_await sock.async_connect(stream_protocol::endpoint(opts_.socket_path),
                                asio::redirect_error(use_awaitable, ec));
    if (ec) {
      last_error_ = "cannot connect to " + opts_.socket_path + ": " + ec.message() +
                    (ec == boost::system::errc::no_such_file_or_directory ||
                             ec == boost::system::errc::connection_refused
                         ? " (is the VM running with this chardev socket?)"
                         : "");
      state_changed_.notify_all();
      co_return false;
    }
    if (closed_) co_return false;
    stream_ = std::make_unique<io::unix_stream>(std::move(sock), opts_.socket_path);
    writer_ = std::make_unique<frame_writer>(ex_);
    decoder_ = wire::frame_decoder({.max_frame_size = opts_.max_frame_size});
    ++conn_gen_;
    auto guarded = [this](awaitable<void> op) -> awaitable<void> {
      try {
        co_await std::move(op);
      } catch (const error& e) {
        last_error_ = e.what();
      } catch (const boost::system::system_error& e) {
        if (e.code() == asio::error::eof)
          last_error_ = "agent side closed the connection";
        else if (e.code() != asio::error::operation_aborted)
          last_error_ = std::string("connection error: ") + e.code().message();
      } catch (const std::exception& e) {
        last_error_ = e.what();
      }
    };
    co_await (guarded(read_loop(established_once)) || guarded(writer_->run(*stream_)) ||
              guarded(hello_loop()));
    const bool was = established_once;
    drop_connection();
    fail_all(errc::connection_lost, "connection to the agent at " + opts_.socket_path +
                                        " lost: " + (last_error_.empty() ? "closed" : last_error_));
    state_changed_.notify_all();
    stream_.reset();
    co_return was;
  }

  // Sends Hellos until answered; fails the connection after the handshake
  // timeout. Completes (never returns early) while the session is up.
  awaitable<void> hello_loop() {
    const auto give_up = clock::now() + opts_.handshake_timeout;
    asio::steady_timer t(ex_);
    while (!established_) {
      if (clock::now() >= give_up)
        throw error(errc::handshake_failed,
                    "no tether agent answered on " + opts_.socket_path + " within " +
                        std::to_string(opts_.handshake_timeout.count()) +
                        " ms (is tether-agent running in the guest?)");
      nonce_ = random_nonce();
      v1::Frame f;
      auto* h = f.mutable_hello();
      h->set_protocol_version(wire::protocol_version);
      h->set_role(v1::Hello::ROLE_HOST);
      h->set_nonce(nonce_);
      h->set_software_version(TETHER_VERSION);
      h->set_max_frame_size(opts_.max_frame_size);
      h->set_initial_stream_window(opts_.stream_window);
      std::string out;
      wire::append_preamble(out);
      wire::append_frame(out, f);
      writer_->send_raw(std::move(out));
      t.expires_after(std::min<clock::duration>(opts_.hello_interval, give_up - clock::now()));
      boost::system::error_code ec;
      co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
    }
    // Park until the connection ends (the other branches finish first).
    async_event forever(ex_);
    co_await forever.wait();
  }

  awaitable<void> read_loop(bool& established_once) {
    for (;;) {
      auto room = decoder_.prepare(256 * 1024);
      const std::size_t n = co_await stream_->read_some(room);
      decoder_.commit(n);
      while (auto item = decoder_.next()) {
        using kind = wire::frame_decoder::item::kind;
        if (item->what == kind::preamble) continue;
        if (item->what == kind::error) {
          if (!established_) continue;  // stale bytes before our session
          throw error(errc::protocol_error,
                      "agent sent an invalid frame (" + wire::make_error_code(item->error).message() +
                          (item->length ? ", " + std::to_string(item->length) + " bytes" : "") + ")");
        }
        handle(item->frame, established_once);
      }
    }
  }

  void handle(v1::Frame& f, bool& established_once) {
    if (!established_) {
      // Only the answer to our latest Hello counts; anything else is stale.
      if (f.has_hello() && f.hello().role() == v1::Hello::ROLE_AGENT && f.hello().nonce() == nonce_) {
        hello_ = f.hello();
        if (hello_.max_frame_size() == 0) hello_.set_max_frame_size(wire::default_max_frame_size);
        established_ = true;
        established_once = true;
        last_error_.clear();
        state_changed_.notify_all();
      } else if (f.has_error() && f.error().status().code() == v1::ERROR_CODE_PROTOCOL_ERROR) {
        last_error_ = "agent refused the handshake: " + f.error().status().message();
      }
      return;
    }
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
          finish_call(*c, error(wire::make_error_code(r.status().code()),
                                c->method + ": " + r.status().message()));
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
        if (!w->second.on_arrival(d.data().size()))
          return protocol_violation(c, "agent overran the stream credit");
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
        if (!c.events_window.on_arrival(1))
          return protocol_violation(c, "agent overran the event credit");
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
          finish_call(*c, error(wire::make_error_code(e.status().code()),
                                c->method + ": " + e.status().message()));
        } else {
          last_agent_error_ = e.status().message();
        }
        return;
      }
      case v1::Frame::kHello:
        // The agent announced a new session (port re-plugged, agent
        // restarted): ours is gone. Reconnect and handshake again.
        throw error(errc::connection_lost,
                    "the agent started a new session (agent restarted or port re-plugged)");
      default:
        throw error(errc::protocol_error, "agent sent an unexpected frame kind");
    }
  }

  void protocol_violation(pending_call& c, const std::string& what) {
    abandon(c, errc::protocol_error, "call " + c.method + ": " + what);
  }

  asio::any_io_executor ex_;
  client_options opts_;
  async_event state_changed_;
  asio::steady_timer backoff_timer_;
  std::unique_ptr<io::unix_stream> stream_;
  std::unique_ptr<frame_writer> writer_;
  wire::frame_decoder decoder_;
  std::map<std::uint64_t, std::shared_ptr<pending_call>> calls_;
  v1::Hello hello_;
  std::string nonce_;
  std::string last_error_;
  std::string last_agent_error_;
  std::uint64_t next_id_ = 1;
  std::uint64_t conn_gen_ = 0;
  bool established_ = false;
  bool running_ = false;
  bool closed_ = false;
};

// --- call_stream ---------------------------------------------------------

call_stream::call_stream(std::shared_ptr<client_impl> client, std::shared_ptr<pending_call> call)
    : client_(std::move(client)), call_(std::move(call)) {}

call_stream::~call_stream() {
  if (call_ && !call_->done) client_->abandon(*call_, errc::cancelled, "call stream dropped");
}

std::uint64_t call_stream::id() const noexcept { return call_->id; }

awaitable<std::optional<call_stream::chunk>> call_stream::next() {
  co_return co_await client_->next(*call_);
}

awaitable<void> call_stream::write(std::uint32_t stream, std::string_view data) {
  co_await client_->write(*call_, stream, data);
}

void call_stream::close_write(std::uint32_t stream) { client_->close_write(*call_, stream); }

awaitable<std::string> call_stream::finish() { co_return co_await client_->finish(*call_); }

void call_stream::cancel() { client_->cancel(*call_); }

// --- client --------------------------------------------------------------

client::client(asio::any_io_executor ex, client_options options)
    : impl_(std::make_shared<client_impl>(std::move(ex), std::move(options))) {}

client::~client() { impl_->close(); }

awaitable<void> client::connect(call_options opts) {
  co_await impl_->wait_connected(impl_->deadline_for(opts));
}

bool client::connected() const noexcept { return impl_->connected(); }
std::optional<hello_info> client::agent_hello() const {
  auto h = impl_->agent_hello();
  if (!h) return std::nullopt;
  return detail::to_hello_info(*h);
}
void client::close() { impl_->close(); }
const client_options& client::options() const noexcept { return impl_->options(); }

awaitable<std::string> client::call(std::string method, std::string payload, call_options opts) {
  auto c = co_await impl_->start(std::move(method), std::move(payload), opts);
  call_stream s(impl_, c);
  co_return co_await s.finish();
}

awaitable<std::unique_ptr<call_stream>> client::start(std::string method, std::string payload,
                                                      call_options opts) {
  auto c = co_await impl_->start(std::move(method), std::move(payload), opts);
  co_return std::make_unique<call_stream>(impl_, std::move(c));
}

}  // namespace tether
