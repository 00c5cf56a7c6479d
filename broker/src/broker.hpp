// tetherd's core: the set of guests it serves, each a guest_hub with its own
// socket. Guests come and go at run time (add_guest / remove_guest): from
// the command line and guests.d at start, and from whatever follows guests
// as they appear (libvirt domains). One io_context, one thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "connection.hpp"  // host-lib/src: detail::connector
#include "limits.hpp"
#include "listen_socket.hpp"

namespace tether::broker {

class guest_hub;

class broker {
 public:
  broker(asio::any_io_executor ex, socket_settings sockets, limits lim, activated_sockets activated);
  ~broker();
  broker(const broker&) = delete;
  broker& operator=(const broker&) = delete;

  // Serves DIR/NAME.sock (or systemd's socket named NAME) for the guest that
  // `connect` reaches; `target` names it in messages (e.g. the chardev path).
  // Throws std::invalid_argument for a bad or already served name.
  void add_guest(const std::string& name, detail::connector connect, std::string target);
  // The same for a QEMU chardev socket.
  void add_guest(const std::string& name, const std::string& chardev_socket);
  // Disconnects the guest's clients and removes its socket; false if unknown.
  bool remove_guest(const std::string& name);
  bool serves(const std::string& name) const { return guests_.contains(name); }
  std::vector<std::string> guests() const;
  // Systemd sockets no guest took (named for guests not configured).
  std::vector<std::string> unclaimed_sockets() const { return activated_.names(); }
  // Ends everything (SIGTERM).
  void stop();

 private:
  asio::any_io_executor ex_;
  socket_settings sockets_;
  limits lim_;
  activated_sockets activated_;
  std::map<std::string, std::shared_ptr<guest_hub>> guests_;
};

}  // namespace tether::broker
