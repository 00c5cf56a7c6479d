// libtether: talk to one guest's tether-agent through the QEMU chardev unix
// socket behind its virtio-serial port.
//
//   asio::io_context ctx;
//   tether::client guest(ctx.get_executor(), {.socket_path = "/run/vm1/tether.sock"});
//   co_spawn(ctx, [&]() -> awaitable<void> {
//     auto info = co_await guest.info();
//     ...
//   }, detached);
//   ctx.run();
//
// Many clients may share one io_context (and one thread). A client connects
// lazily, performs the handshake, reconnects with backoff when the socket
// goes away, and multiplexes any number of concurrent calls. All member
// functions must be called from the client's executor.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "tether/error.hpp"
#include "tether/v1/frame.pb.h"
#include "tether/v1/info.pb.h"

namespace tether {

using std::chrono::milliseconds;

struct client_options {
  // QEMU chardev socket of the guest's org.tether.agent.0 port.
  std::string socket_path;
  // Default deadline of a call (waiting for the connection included).
  milliseconds call_timeout{30'000};
  // How long one connection attempt may wait for the agent's Hello before it
  // is dropped and retried.
  milliseconds handshake_timeout{5'000};
  // The Hello is re-sent (with a fresh nonce) at this interval until the
  // agent answers: it may start after we connect.
  milliseconds hello_interval{1'000};
  // Reconnect backoff: doubles from min to max.
  milliseconds reconnect_min{50};
  milliseconds reconnect_max{2'000};
  // Limits against a misbehaving guest.
  std::uint32_t max_frame_size = 1u << 20;    // largest frame accepted
  std::uint32_t stream_window = 2u << 20;     // per-stream receive window
  std::uint32_t event_window = 256;           // events in flight per call
  std::uint32_t max_open_calls = 65536;       // concurrent calls
};

struct call_options {
  // 0: the client's call_timeout. milliseconds::max(): no deadline.
  milliseconds timeout{0};
};

class client_impl;
struct pending_call;

// A call with streams and/or events, for methods that are not request/reply.
class call_stream {
 public:
  struct chunk {
    enum class kind { data, eof, event };
    kind what = kind::data;
    std::uint32_t stream = 0;  // data, eof
    std::string bytes;         // data: the bytes; event: the event payload
  };

  call_stream(std::shared_ptr<client_impl> client, std::shared_ptr<pending_call> call);
  ~call_stream();  // cancels the call if it has not finished
  call_stream(const call_stream&) = delete;
  call_stream& operator=(const call_stream&) = delete;

  std::uint64_t id() const noexcept;

  // Next inbound item in arrival order; nullopt once the call has ended and
  // everything was read (then finish() gives the result).
  boost::asio::awaitable<std::optional<chunk>> next();
  // Sends bytes on an outbound stream, waiting for the agent's credit.
  boost::asio::awaitable<void> write(std::uint32_t stream, std::string_view data);
  void close_write(std::uint32_t stream);
  // Discards unread items, waits for the end, returns the reply payload or
  // throws tether::error.
  boost::asio::awaitable<std::string> finish();
  // Asks the agent to stop the call; finish() then reports CANCELLED.
  void cancel();

 private:
  std::shared_ptr<client_impl> client_;
  std::shared_ptr<pending_call> call_;
};

class client {
 public:
  client(boost::asio::any_io_executor ex, client_options options);
  ~client();  // closes: running calls fail with errc::closed
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  // Waits until a session with the agent is established (or the deadline).
  boost::asio::awaitable<void> connect(call_options opts = {});
  bool connected() const noexcept;
  // The agent's Hello of the current session, if connected.
  std::optional<v1::Hello> agent_hello() const;
  void close();

  // Raw unary call: serialized request in, serialized reply out.
  boost::asio::awaitable<std::string> call(std::string method, std::string payload,
                                           call_options opts = {});
  // A call with streams or events.
  boost::asio::awaitable<std::unique_ptr<call_stream>> start(std::string method,
                                                             std::string payload,
                                                             call_options opts = {});

  // Typed unary call.
  template <class Reply, class Request>
  boost::asio::awaitable<Reply> call(std::string method, const Request& req,
                                     call_options opts = {}) {
    std::string bytes = co_await call(std::move(method), req.SerializeAsString(), opts);
    Reply reply;
    if (!reply.ParseFromString(bytes)) throw_bad_reply(Reply::descriptor()->full_name());
    co_return reply;
  }

  boost::asio::awaitable<v1::PingReply> ping(std::string payload = {}, call_options opts = {});
  boost::asio::awaitable<v1::InfoReply> info(call_options opts = {});

  const client_options& options() const noexcept;

 private:
  [[noreturn]] static void throw_bad_reply(const std::string& type);
  std::shared_ptr<client_impl> impl_;
};

}  // namespace tether
