// Where a guest's clients connect: DIR/NAME.sock, made by tetherd (with the
// configured mode and group: access control is the socket's permissions), or
// handed over by systemd (socket activation: sd_listen_fds() sockets named by
// FileDescriptorName=NAME, e.g. from tetherd-guest@NAME.socket).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tether/common/unique_fd.hpp"

namespace tether::broker {

struct socket_settings {
  std::string runtime_dir = "/run/tether";
  mode_t mode = 0660;
  std::optional<gid_t> group;  // unset: the broker's own group
};

// DIR/NAME.sock; throws std::invalid_argument for a name that cannot be a
// file name there (empty, '/', leading '.', too long for a socket address).
std::string guest_socket_path(const std::string& runtime_dir, const std::string& name);

// Binds and listens on DIR/NAME.sock: bound, then given its mode and group,
// then listening, so nobody connects before the permissions hold. A stale
// socket file (nobody listening) is replaced; a live one means another
// broker serves the guest: std::runtime_error. The directory is created
// (0755) if missing.
unique_fd listen_guest_socket(const socket_settings& s, const std::string& name);

// The sockets systemd passed to this process, by name; each taken once.
class activated_sockets {
 public:
  // Reads (and unsets) LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES. Sockets that are
  // not listening unix stream sockets are skipped with a warning.
  static activated_sockets from_environment();
  std::optional<unique_fd> take(const std::string& name);
  std::vector<std::string> names() const;

 private:
  std::map<std::string, unique_fd> fds_;
};

}  // namespace tether::broker
