#include "guest_hub.hpp"

#include <unistd.h>

#include "client_link.hpp"
#include "log.hpp"
#include "tether/common/frames.hpp"
#include "tether/common/race.hpp"

namespace tether::broker {

using stream_protocol = asio::local::stream_protocol;

guest_hub::guest_hub(asio::any_io_executor ex, std::string name, detail::connector connect, std::string target,
                     const limits& lim, socket_settings sockets, std::optional<unique_fd> activated)
    : ex_(std::move(ex)),
      name_(std::move(name)),
      target_(std::move(target)),
      lim_(lim),
      sockets_(std::move(sockets)),
      activated_(std::move(activated)),
      conn_opts_{.socket_path = target_,
                 .max_frame_size = lim_.max_frame_size,
                 // What the agent may send on a stream before the client's
                 // own window is granted (call_table.hpp, stream_windows).
                 .stream_window = lim_.min_stream_window},
      conn_(ex_, conn_opts_, watch_reachability(std::move(connect)),
            {.on_frame = [this](v1::Frame& f) { on_guest_frame(f); },
             .on_lost = [this](errc why, const std::string& m) { on_guest_lost(why, m); },
             .on_established = [this] { on_guest_established(); }}) {}

guest_hub::~guest_hub() { close_listener(); }

void guest_hub::start() {
  if (activated_) open_listener();  // systemd's socket serves from the start
  conn_.ensure_running(shared_from_this());
}

void guest_hub::stop() {
  if (stopped_) return;
  stopped_ = true;
  close_listener();
  for (auto& [key, c] : clients_) c->close();
  conn_.close();
}

std::string guest_hub::why_down() const {
  if (!last_lost_.empty()) return last_lost_;
  return "connecting to " + target_;
}

// --- The guest's socket follows the guest's reachability.

detail::connector guest_hub::watch_reachability(detail::connector inner) {
  return [this, inner = std::move(inner)]() -> awaitable<std::unique_ptr<io::byte_stream>> {
    std::exception_ptr failed;
    std::unique_ptr<io::byte_stream> s;
    try {
      s = co_await inner();
    } catch (const std::exception& e) {
      failed = std::current_exception();
      if (last_lost_ != e.what()) log::info("guest " + name_ + ": " + e.what());
      last_lost_ = e.what();
    }
    // `this` outlives the connection's loop: the loop holds the hub.
    reachable(!failed);
    if (failed) std::rethrow_exception(failed);
    co_return s;
  };
}

void guest_hub::reachable(bool yes) {
  if (stopped_ || activated_) return;
  if (yes && !acceptor_) open_listener();
  if (!yes && acceptor_) close_listener();
}

void guest_hub::open_listener() {
  try {
    unique_fd fd;
    if (activated_) {
      fd = std::move(*activated_);
      activated_.emplace();  // remembered as "socket from systemd": never made nor removed here
    } else {
      fd = listen_guest_socket(sockets_, name_);
      socket_path_ = guest_socket_path(sockets_.runtime_dir, name_);
    }
    acceptor_ = std::make_shared<stream_protocol::acceptor>(ex_, stream_protocol(), fd.release());
    log::info("guest " + name_ + ": serving clients on " +
              (socket_path_.empty() ? std::string("the socket from systemd") : socket_path_));
    asio::co_spawn(ex_, accept_loop(acceptor_), asio::detached);
  } catch (const std::exception& e) {
    log::error("guest " + name_ + ": cannot serve clients: " + e.what());
  }
}

void guest_hub::close_listener() {
  if (!acceptor_) return;
  boost::system::error_code ec;
  acceptor_->close(ec);
  acceptor_.reset();
  if (!socket_path_.empty()) {
    ::unlink(socket_path_.c_str());
    log::info("guest " + name_ + ": removed " + socket_path_ + " (the guest's socket is gone)");
    socket_path_.clear();
  }
}

awaitable<void> guest_hub::accept_loop(std::shared_ptr<stream_protocol::acceptor> acceptor) {
  auto self = shared_from_this();
  asio::steady_timer pause(ex_);
  while (acceptor->is_open()) {
    auto [ec, s] = co_await acceptor->async_accept(asio::as_tuple(use_awaitable));
    if (!acceptor->is_open() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors, most likely: wait a little instead of spinning.
      log::warning("guest " + name_ + ": accept failed: " + ec.message());
      pause.expires_after(100ms);
      co_await pause.async_wait(asio::as_tuple(use_awaitable));
      continue;
    }
    admit(std::move(s));
  }
}

void guest_hub::admit(stream_protocol::socket s) {
  const auto cred = peer_cred_of(s.native_handle());
  if (stopped_) return;
  if (clients_.size() >= lim_.max_clients) {
    log::warning("guest " + name_ + ": refused a client (" + describe(cred) + "): " +
                 std::to_string(lim_.max_clients) + " clients already (--max-clients)");
    const auto e = frames::with_preamble(frames::error(
        v1::ERROR_CODE_RESOURCE_EXHAUSTED,
        "tetherd: too many clients of guest " + name_ + " (limit " + std::to_string(lim_.max_clients) + ")"));
    if (refusing_ < max_refusing) asio::co_spawn(ex_, refuse(std::move(s), e), asio::detached);
    return;
  }
  const auto key = next_client_++;
  auto c = std::make_shared<client_link>(shared_from_this(), key, std::move(s), cred);
  clients_.emplace(key, c);
  log::info(c->describe() + " connected");
  asio::co_spawn(ex_, c->run(), asio::detached);  // run() logs how it ended
}

// Says why, then drains the client's bytes until it leaves (at most 2 s):
// closing with its Hello unread would reset the connection before it read
// the reason.
awaitable<void> guest_hub::refuse(stream_protocol::socket s, std::string why) {
  auto self = shared_from_this();
  ++refusing_;
  co_await asio::async_write(s, asio::buffer(why), asio::as_tuple(use_awaitable));
  boost::system::error_code ec;
  s.shutdown(stream_protocol::socket::shutdown_send, ec);
  char buf[4096];
  auto drain = [&]() -> awaitable<void> {
    for (;;) {
      auto [read_ec, n] = co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
      if (read_ec) co_return;
    }
  };
  co_await with_timeout(drain(), 2s);
  --refusing_;
}

// --- Client -> guest.

void guest_hub::from_client(client_link& c, v1::Frame& f) {
  auto refuse_call = [&](std::uint64_t id, v1::ErrorCode code, const std::string& why) {
    c.send(frames::error_response(id, code, why));
  };
  auto remap = [&](std::uint64_t client_id) { return calls_.to_guest(c.key(), client_id); };
  switch (f.body_case()) {
    case v1::Frame::kRequest: {
      auto& r = *f.mutable_request();
      const auto client_id = r.call_id();
      if (calls_.calls_of(c.key()) >= lim_.max_calls_per_client)
        return refuse_call(client_id, v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                           "tetherd: too many concurrent calls from this client (limit " +
                               std::to_string(lim_.max_calls_per_client) + ", --max-calls)");
      const auto guest_id = calls_.open(c.key(), client_id);
      if (!guest_id)
        return refuse_call(client_id, v1::ERROR_CODE_DUPLICATE_CALL_ID,
                           "call id " + std::to_string(client_id) + " is already running");
      r.set_call_id(*guest_id);
      const auto limit = guest_hello().max_frame_size() ? guest_hello().max_frame_size() : wire::default_max_frame_size;
      if (f.ByteSizeLong() > limit) {
        calls_.close(*guest_id);
        return refuse_call(client_id, v1::ERROR_CODE_FRAME_TOO_LARGE,
                           "request of " + std::to_string(f.ByteSizeLong()) + " bytes exceeds the agent's limit of " +
                               std::to_string(limit));
      }
      return guest_send(f);
    }
    case v1::Frame::kData:
      if (const auto id = remap(f.data().call_id())) {
        f.mutable_data()->set_call_id(*id);
        guest_send(f);
      }
      return;  // not one of its calls (ended, or never its own): dropped, as the agent does
    case v1::Frame::kCredit:
      if (const auto id = remap(f.credit().call_id())) {
        f.mutable_credit()->set_call_id(*id);
        guest_send(f);
      }
      return;
    case v1::Frame::kCancel:
      if (const auto id = remap(f.cancel().call_id())) guest_send(frames::cancel(*id));
      return;
    default:
      return;
  }
}

void guest_hub::guest_send(const v1::Frame& f) {
  if (auto* w = guest_writer()) w->send(f, frame_writer::lane_for(f));
}

std::size_t guest_hub::cancel_calls_of(client_link& c) {
  const auto ids = calls_.drop_client(c.key());
  for (const auto id : ids) guest_send(frames::cancel(id));
  return ids.size();
}

void guest_hub::client_gone(client_link& c) { clients_.erase(c.key()); }

// --- Guest -> clients.

namespace {
std::uint64_t call_id_of(const v1::Frame& f) {
  switch (f.body_case()) {
    case v1::Frame::kResponse: return f.response().call_id();
    case v1::Frame::kData: return f.data().call_id();
    case v1::Frame::kEvent: return f.event().call_id();
    case v1::Frame::kCredit: return f.credit().call_id();
    case v1::Frame::kError: return f.error().call_id();
    default: return 0;
  }
}

void set_call_id(v1::Frame& f, std::uint64_t id) {
  switch (f.body_case()) {
    case v1::Frame::kResponse: f.mutable_response()->set_call_id(id); break;
    case v1::Frame::kData: f.mutable_data()->set_call_id(id); break;
    case v1::Frame::kEvent: f.mutable_event()->set_call_id(id); break;
    case v1::Frame::kCredit: f.mutable_credit()->set_call_id(id); break;
    case v1::Frame::kError: f.mutable_error()->set_call_id(id); break;
    default: break;
  }
}
}  // namespace

void guest_hub::on_guest_frame(v1::Frame& f) {
  switch (f.body_case()) {
    case v1::Frame::kResponse:
    case v1::Frame::kData:
    case v1::Frame::kEvent:
    case v1::Frame::kCredit:
    case v1::Frame::kError:
      break;
    default:
      // As libtether: the agent broke the protocol; reconnect.
      throw error(errc::protocol_error, "agent sent an unexpected frame kind");
  }
  const auto guest_id = call_id_of(f);
  auto* route = guest_id ? calls_.from_guest(guest_id) : nullptr;
  if (!route) {
    if (f.has_error()) log::warning("guest " + name_ + ": agent reported: " + f.error().status().message());
    return;  // a call whose client went away (its Cancel is on its way)
  }
  const auto it = clients_.find(route->client);
  if (it == clients_.end()) return;
  auto& c = *it->second;
  if (f.has_data()) {
    if (call_table::first_data(*route, f.data().stream())) {
      const stream_windows w{.announced_to_guest = lim_.min_stream_window, .client = c.stream_window()};
      if (w.extra()) guest_send(frames::credit(guest_id, f.data().stream(), w.extra()));
    }
  }
  set_call_id(f, route->client_id);
  auto lane = frame_writer::lane_for(f);
  if (lane == frame_writer::lane::bulk) route->sent_bulk = true;
  if (f.has_response()) {
    if (route->sent_bulk) lane = frame_writer::lane::bulk;  // after the call's data, as the agent sent it
    calls_.close(guest_id);  // `route` is gone from here on
  }
  deliver(c, guest_id, f, lane);
}

void guest_hub::deliver(client_link& c, std::uint64_t guest_id, v1::Frame& f, frame_writer::lane lane) {
  if (f.ByteSizeLong() <= c.max_frame_size()) return c.send(f, lane);
  // The client cannot take it: the call fails for the client, and ends in the guest.
  const auto client_id = call_id_of(f);
  if (!f.has_response()) {
    guest_send(frames::cancel(guest_id));
    calls_.close(guest_id);
  }
  c.send(frames::error_response(client_id, v1::ERROR_CODE_FRAME_TOO_LARGE,
                                "tetherd: the agent's frame of " + std::to_string(f.ByteSizeLong()) +
                                    " bytes exceeds this client's limit of " + std::to_string(c.max_frame_size())),
         lane);
}

void guest_hub::on_guest_established() {
  ++generation_;
  last_lost_.clear();
  const auto& h = conn_.hello();
  log::info("guest " + name_ + ": agent session up (tether-agent " + h.software_version() + ", " +
            std::to_string(clients_.size()) + " client(s) waiting or connected)");
  for (auto& [key, c] : clients_) c->on_guest_up();
}

void guest_hub::on_guest_lost(errc, const std::string& message) {
  calls_.clear();
  std::size_t dropped = 0;
  for (auto& [key, c] : clients_) {
    if (!c->established()) continue;  // still waiting for a session: keeps waiting
    c->close();
    ++dropped;
  }
  if (last_lost_ != message) log::info("guest " + name_ + ": " + message + (dropped ? "; " + std::to_string(dropped) + " client(s) disconnected" : ""));
  last_lost_ = message;
}

}  // namespace tether::broker
