// One guest behind the broker: the one connection to its agent (libtether's
// detail::connection: connect, handshake, reconnect) and the local clients
// of its socket, relaying frames both ways with call ids remapped
// (call_table.hpp). A client is a peer speaking the tether protocol; it gets
// the guest's Hello facts, so libtether cannot tell the broker from QEMU's
// chardev.
//
// Life of the guest's socket (DIR/NAME.sock made by the broker) mirrors the
// guest's own: it exists while the guest's chardev accepts connections, and
// goes away when connecting fails (QEMU gone), so "no socket" means "guest
// not running" for tetherctl and for following a power-off, as with the
// chardev. A socket from systemd (socket activation) stays for the broker's
// life. When the agent session ends, established clients are disconnected:
// they see what a direct client sees, and libtether reconnects.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "call_table.hpp"
#include "connection.hpp"  // host-lib/src: libtether's connection to one agent
#include "limits.hpp"
#include "listen_socket.hpp"

namespace tether::broker {

class client_link;

class guest_hub : public std::enable_shared_from_this<guest_hub> {
 public:
  // `connect` opens the guest's chardev (or any stream to its agent);
  // `target` names it in messages. `activated`: the socket systemd passed
  // for this guest, if any; otherwise `sockets` says where to make one.
  guest_hub(asio::any_io_executor ex, std::string name, detail::connector connect, std::string target,
            const limits& lim, socket_settings sockets, std::optional<unique_fd> activated);
  ~guest_hub();
  guest_hub(const guest_hub&) = delete;
  guest_hub& operator=(const guest_hub&) = delete;

  void start();
  // Disconnects every client and the guest; removes the socket it made.
  void stop();

  const std::string& name() const noexcept { return name_; }
  const limits& lim() const noexcept { return lim_; }
  std::size_t client_count() const noexcept { return clients_.size(); }

  // --- For client_link.
  bool guest_up() const noexcept { return conn_.established(); }
  const v1::Hello& guest_hello() const noexcept { return conn_.hello(); }
  std::uint64_t generation() const noexcept { return generation_; }
  std::string why_down() const;
  // The guest connection's writer while a session is up, else null.
  frame_writer* guest_writer() noexcept { return conn_.established() ? conn_.writer() : nullptr; }
  // A Request, StreamData, Credit or Cancel of an established client.
  void from_client(client_link& c, v1::Frame& f);
  // The client said Hello again (a new session) or went away: its calls
  // are cancelled in the guest, nobody else's.
  std::size_t cancel_calls_of(client_link& c);
  void client_gone(client_link& c);

 private:
  detail::connector watch_reachability(detail::connector inner);
  void reachable(bool yes);
  void open_listener();
  void close_listener();
  awaitable<void> accept_loop(std::shared_ptr<asio::local::stream_protocol::acceptor> acceptor);
  void admit(asio::local::stream_protocol::socket s);
  awaitable<void> refuse(asio::local::stream_protocol::socket s, std::string why);

  void on_guest_frame(v1::Frame& f);
  void on_guest_established();
  void on_guest_lost(errc why, const std::string& message);
  // Sends a guest frame of call `guest_id` to its client (call id already
  // rewritten); a frame too large for the client fails the call instead.
  void deliver(client_link& c, std::uint64_t guest_id, v1::Frame& f, frame_writer::lane lane);
  void guest_send(const v1::Frame& f);

  asio::any_io_executor ex_;
  std::string name_;
  std::string target_;
  limits lim_;
  socket_settings sockets_;
  std::optional<unique_fd> activated_;
  client_options conn_opts_;  // before conn_: it keeps a reference
  detail::connection conn_;
  std::shared_ptr<asio::local::stream_protocol::acceptor> acceptor_;
  std::string socket_path_;  // the socket this hub made ("" if none now)
  call_table calls_;
  std::map<std::uint64_t, std::shared_ptr<client_link>> clients_;
  std::uint64_t next_client_ = 1;
  std::uint64_t generation_ = 0;  // agent sessions so far
  std::string last_lost_;
  // Refused clients still being told why; more are closed at once.
  std::size_t refusing_ = 0;
  static constexpr std::size_t max_refusing = 16;
  bool stopped_ = false;
};

}  // namespace tether::broker
