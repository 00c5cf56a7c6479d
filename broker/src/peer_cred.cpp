#include "peer_cred.hpp"

#include <sys/socket.h>

namespace tether::broker {

peer_cred peer_cred_of(int fd) {
  peer_cred out;
  ucred c{};
  socklen_t len = sizeof c;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len) == 0 && len == sizeof c) {
    out.pid = c.pid;
    out.uid = c.uid;
    out.gid = c.gid;
    out.known = true;
  }
  return out;
}

std::string describe(const peer_cred& c) {
  if (!c.known) return "credentials unknown";
  return "pid " + std::to_string(c.pid) + " uid " + std::to_string(c.uid) + " gid " + std::to_string(c.gid);
}

}  // namespace tether::broker
