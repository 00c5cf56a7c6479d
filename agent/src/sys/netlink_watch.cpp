#include "sys/netlink_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace tether::agent {

netlink_watch::netlink_watch() {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ < 0) return;
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

netlink_watch::~netlink_watch() {
  if (fd_ >= 0) ::close(fd_);
}

bool netlink_watch::changed() {
  bool any = first_ || fd_ < 0;
  first_ = false;
  if (fd_ < 0) return true;
  char buf[8192];
  for (;;) {
    // Contents do not matter, only that something happened.
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      any = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) any = true;  // ENOBUFS: we missed some
    return any;
  }
}

}  // namespace tether::agent
