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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "tether/error.hpp"

namespace tether {

using std::chrono::milliseconds;

struct client_options {
  // QEMU chardev socket of the guest's org.tether.agent.0 port; with `via`,
  // a unix socket inside the guest of the last hop.
  std::string socket_path;
  // A route to a nested guest: via[0] is a chardev socket on this host (the
  // L1 guest's agent), each next entry a socket inside the previous guest;
  // socket_path is then a socket inside the last one. Each hop's agent must
  // allow the next socket in its forward.sockets. Empty: direct.
  std::vector<std::string> via;
  // A libvirt domain by name instead of socket_path: the socket of its
  // org.tether.agent.0 channel, looked up in the running domain's live XML
  // (tether/libvirt.hpp) at every connection attempt, since it changes each
  // time the domain starts. libvirt_uri: empty for libvirt's default URI.
  // Not with socket_path or via.
  std::string domain;
  std::string libvirt_uri;
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
  // Event payloads of one call received but not yet read: the event window
  // counts events, not bytes, so this bounds what a guest sending large
  // events to a caller that reads slowly can make the host hold; past it the
  // call fails with errc::protocol_error.
  std::uint32_t max_unread_event_bytes = 16u << 20;
};

// Every call of the library takes these as its last parameter.
//
// Timeout: the deadline of the call, waiting for the connection included.
// For calls that start something long-running (a command, a subscription, a
// power request followed until the guest is down), it bounds reaching the
// agent and starting; what follows has its own limits in the call's options.
//
// Cancellation: the library's coroutines honour Asio's per-operation
// cancellation. Cancelling the awaiting coroutine (e.g. `co_await (op ||
// timer.async_wait())`, or a cancellation slot bound with
// asio::bind_cancellation_slot) cancels the call in the agent and throws
// tether::error(errc::cancelled). Objects that outlive a call (process,
// subscriptions) also have a cancel() member.
struct call_options {
  // 0: the client's call_timeout. milliseconds::max(): no deadline.
  milliseconds timeout{0};
};

// The agent's side of the handshake (its Hello).
struct hello_info {
  std::uint32_t protocol_version = 0;
  std::string session_id;        // bytes, new for every agent session
  std::string software_version;  // the agent's version
  std::vector<std::string> capabilities;
  std::uint32_t max_frame_size = 0;         // largest frame the agent accepts
  std::uint32_t initial_stream_window = 0;  // bytes in flight per stream
  std::uint32_t max_concurrent_calls = 0;
};

// ping(): the payload echoed back and the guest's clock.
struct ping_reply {
  std::string payload;
  std::int64_t guest_time_ns = 0;  // guest CLOCK_REALTIME, ns since the epoch
};

// info(): what the agent and its guest are.
struct guest_info {
  std::string agent_version;
  std::uint32_t protocol_version = 0;
  std::vector<std::string> services;               // enabled services
  std::map<std::string, std::string> os_release;   // /etc/os-release keys
  std::string os_pretty_name;                      // PRETTY_NAME
  std::string kernel_name, kernel_release, kernel_version, machine;  // uname
  std::string hostname;
  std::string boot_id;     // /proc/sys/kernel/random/boot_id: new each boot
  std::string machine_id;  // /etc/machine-id
  double uptime_seconds = 0;
  std::int64_t guest_time_ns = 0;  // guest CLOCK_REALTIME
  std::int32_t utc_offset_seconds = 0;
  std::uint32_t agent_pid = 0;
  std::string session_id;  // bytes: the agent session that answered
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
  std::optional<hello_info> agent_hello() const;
  void close();

  // Raw unary call: serialized request in, serialized reply out (messages of
  // proto/tether/v1/*.proto, for methods this library does not wrap).
  boost::asio::awaitable<std::string> call(std::string method, std::string payload,
                                           call_options opts = {});
  // A call with streams or events.
  boost::asio::awaitable<std::unique_ptr<call_stream>> start(std::string method,
                                                             std::string payload,
                                                             call_options opts = {});

  boost::asio::awaitable<ping_reply> ping(std::string payload = {}, call_options opts = {});
  boost::asio::awaitable<guest_info> info(call_options opts = {});

  const client_options& options() const noexcept;

  // The route's hops (client_options::via): hop(0) is the client of the
  // agent at via[0], and so on; its calls share the connection the route
  // runs over. Throws errc::invalid_argument past the last hop.
  client& hop(std::size_t i);

 private:
  explicit client(std::shared_ptr<client_impl> impl);

  std::shared_ptr<client_impl> impl_;
  std::vector<std::unique_ptr<client>> hops_;
};

}  // namespace tether
