// The host's connection to one agent: connect (through a connector: the
// QEMU chardev unix socket, or an in-memory stream in tests), handshake
// (preamble + Hello with a fresh nonce, repeated until answered), run the
// read and write loops, and reconnect with backoff when the connection
// ends. Frames of an established session go to the host session
// (host_session.hpp), which owns the calls. Internal to libtether.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "tether/client.hpp"
#include "tether/common/byte_stream.hpp"
#include "tether/common/frame_writer.hpp"
#include "tether/wire/codec.hpp"

namespace tether::detail {

using clock = std::chrono::steady_clock;

// Opens one transport connection to the agent, or throws an exception whose
// what() says why it cannot (reported by the next call that times out).
using connector = std::function<awaitable<std::unique_ptr<io::byte_stream>>()>;

// The QEMU chardev socket at `path`.
connector unix_socket_connector(std::string path);
// The chardev socket of a libvirt domain's tether channel, looked up anew
// for each connection (libvirt_connector.cpp).
connector libvirt_domain_connector(std::string domain, std::string uri);
// What the options connect to, for messages: the socket, or the domain.
std::string target_text(const client_options& o);

class connection {
 public:
  struct handlers {
    // A frame of the established session (not the handshake's). May throw
    // tether::error to end the connection (protocol violation).
    std::function<void(v1::Frame&)> on_frame;
    // The connection ended (or close()): calls sent on it cannot finish.
    std::function<void(errc, const std::string&)> on_lost;
  };

  connection(asio::any_io_executor ex, const client_options& opts, connector connect, handlers h);

  // Starts connecting (once); `owner` is kept alive while the loop runs.
  void ensure_running(std::shared_ptr<void> owner);
  // Waits until a session is established; throws errc::closed or
  // errc::timeout (with the last connection failure) at the deadline.
  awaitable<void> wait_connected(clock::time_point deadline);
  void close();

  bool established() const noexcept { return established_; }
  bool closed() const noexcept { return closed_; }
  // The agent's Hello of the current (or last) session.
  const v1::Hello& hello() const noexcept { return hello_; }
  // Counts connections: frames of a call go only on the one it started on.
  std::uint64_t generation() const noexcept { return generation_; }
  // The current connection's writer; null between connections.
  frame_writer* writer() noexcept { return writer_.get(); }

 private:
  static awaitable<void> connection_loop(connection& self, std::shared_ptr<void> owner);
  awaitable<bool> connect_and_serve();
  awaitable<void> hello_loop();
  awaitable<void> read_loop(bool& established_once);
  void handle(wire::frame_decoder::item& item, bool& established_once);
  void drop_connection();

  asio::any_io_executor ex_;
  const client_options& opts_;
  connector connect_;
  handlers handlers_;
  async_event state_changed_;
  asio::steady_timer backoff_timer_;
  std::unique_ptr<io::byte_stream> stream_;
  std::unique_ptr<frame_writer> writer_;
  wire::frame_decoder decoder_;
  v1::Hello hello_;
  std::string nonce_;
  std::string last_error_;
  std::uint64_t generation_ = 0;
  bool established_ = false;
  bool running_ = false;
  bool closed_ = false;
};

}  // namespace tether::detail
