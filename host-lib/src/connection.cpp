#include "connection.hpp"

#include "tether/common/frame_reader.hpp"
#include "tether/common/frames.hpp"
#include "tether/common/race.hpp"
#include "tether/common/random.hpp"
#include "tether/common/unix_stream.hpp"

namespace tether::detail {

using stream_protocol = asio::local::stream_protocol;

connector unix_socket_connector(std::string path) {
  return [path = std::move(path)]() -> awaitable<std::unique_ptr<io::byte_stream>> {
    stream_protocol::socket sock(co_await asio::this_coro::executor);
    boost::system::error_code ec;
    co_await sock.async_connect(stream_protocol::endpoint(path), asio::redirect_error(use_awaitable, ec));
    if (ec)
      throw std::runtime_error("cannot connect to " + path + ": " + ec.message() +
                               (ec == boost::system::errc::no_such_file_or_directory ||
                                        ec == boost::system::errc::connection_refused
                                    ? " (is the VM running with this chardev socket?)"
                                    : ""));
    co_return std::make_unique<io::unix_stream>(std::move(sock), path);
  };
}

std::string target_text(const client_options& o) {
  return o.domain.empty() ? o.socket_path : "libvirt domain '" + o.domain + "'";
}

connection::connection(asio::any_io_executor ex, const client_options& opts, connector connect, handlers h)
    : ex_(std::move(ex)),
      opts_(opts),
      connect_(std::move(connect)),
      handlers_(std::move(h)),
      state_changed_(ex_),
      backoff_timer_(ex_) {}

void connection::ensure_running(std::shared_ptr<void> owner) {
  if (running_ || closed_) return;
  running_ = true;
  asio::co_spawn(ex_, connection_loop(*this, std::move(owner)), asio::detached);
}

awaitable<void> connection::wait_connected(clock::time_point deadline) {
  while (!established_) {
    if (closed_) throw error(errc::closed, "tether client is closed");
    const bool in_time = co_await wait_until(state_changed_, deadline);
    if (!in_time) {
      std::string why = last_error_.empty() ? std::string("no answer yet") : last_error_;
      throw error(errc::timeout, "no tether session with " + target_text(opts_) + " before the deadline: " + why);
    }
  }
}

void connection::close() {
  if (closed_) return;
  closed_ = true;
  handlers_.on_lost(errc::closed, "tether client closed");
  drop_connection();
  backoff_timer_.cancel();
  state_changed_.notify_all();
}

void connection::drop_connection() {
  established_ = false;
  if (writer_) writer_->stop();
  if (stream_) stream_->close();
}

awaitable<void> connection::connection_loop(connection& self, std::shared_ptr<void> owner) {
  (void)owner;  // held for the loop's life: `self` lives in it
  auto backoff = self.opts_.reconnect_min;
  while (!self.closed_) {
    const bool served = co_await self.connect_and_serve();
    if (self.closed_) break;
    if (served) backoff = self.opts_.reconnect_min;
    self.backoff_timer_.expires_after(backoff);
    boost::system::error_code ec;
    co_await self.backoff_timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    backoff = std::min(backoff * 2, self.opts_.reconnect_max);
  }
  self.running_ = false;
}

// One connection: connect, handshake, serve. Returns true if a session was
// established. Never throws.
awaitable<bool> connection::connect_and_serve() {
  bool established_once = false;
  std::unique_ptr<io::byte_stream> stream;
  try {
    stream = co_await connect_();
  } catch (const std::exception& e) {
    last_error_ = e.what();
    state_changed_.notify_all();
    co_return false;
  }
  if (closed_) co_return false;
  stream_ = std::move(stream);
  writer_ = std::make_unique<frame_writer>(ex_);
  decoder_ = wire::frame_decoder({.max_frame_size = opts_.max_frame_size});
  nonce_.clear();  // an answer to the last connection's Hello is stale
  ++generation_;
  const auto ended =
      co_await first_to_end(read_loop(established_once), writer_->run(*stream_), hello_loop());
  if (ended) {
    try {
      std::rethrow_exception(ended);
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
  }
  const bool was = established_once;
  drop_connection();
  handlers_.on_lost(errc::connection_lost, "connection to the agent at " + target_text(opts_) + " lost: " +
                                               (last_error_.empty() ? "closed" : last_error_));
  state_changed_.notify_all();
  stream_.reset();
  co_return was;
}

// Sends Hellos until answered; fails the connection after the handshake
// timeout. Completes (never returns early) while the session is up.
awaitable<void> connection::hello_loop() {
  const auto give_up = clock::now() + opts_.handshake_timeout;
  asio::steady_timer t(ex_);
  while (!established_) {
    if (clock::now() >= give_up)
      throw error(errc::handshake_failed, "no tether agent answered on " + target_text(opts_) + " within " +
                                              std::to_string(opts_.handshake_timeout.count()) +
                                              " ms (is tether-agent running in the guest?)");
    nonce_ = random_bytes(16);
    auto f = frames::hello(v1::Hello::ROLE_HOST, TETHER_VERSION);
    auto* h = f.mutable_hello();
    h->set_nonce(nonce_);
    h->set_max_frame_size(opts_.max_frame_size);
    h->set_initial_stream_window(opts_.stream_window);
    writer_->send_raw(frames::with_preamble(f));
    t.expires_after(std::min<clock::duration>(opts_.hello_interval, give_up - clock::now()));
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
  }
  // Park until the connection ends (the other branches finish first).
  async_event forever(ex_);
  co_await forever.wait();
}

awaitable<void> connection::read_loop(bool& established_once) {
  co_await read_frames(*stream_, decoder_,
                       [&](wire::frame_decoder::item& item) { handle(item, established_once); });
}

void connection::handle(wire::frame_decoder::item& item, bool& established_once) {
  using kind = wire::frame_decoder::item::kind;
  if (item.what == kind::preamble) return;
  if (item.what == kind::error) {
    if (!established_) return;  // stale bytes before our session
    throw error(errc::protocol_error,
                "agent sent an invalid frame (" + wire::make_error_code(item.error).message() +
                    (item.length ? ", " + std::to_string(item.length) + " bytes" : "") + ")");
  }
  auto& f = item.frame;
  if (!established_) {
    // Only the answer to our latest Hello counts; anything else is stale.
    // (An agent's unsolicited announcement has no nonce; neither has this
    // connection before its first Hello went out.)
    if (f.has_hello() && f.hello().role() == v1::Hello::ROLE_AGENT && !nonce_.empty() &&
        f.hello().nonce() == nonce_) {
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
  if (f.has_hello())
    // The agent announced a new session (port re-plugged, agent
    // restarted): ours is gone. Reconnect and handshake again.
    throw error(errc::connection_lost, "the agent started a new session (agent restarted or port re-plugged)");
  handlers_.on_frame(f);
}

}  // namespace tether::detail
