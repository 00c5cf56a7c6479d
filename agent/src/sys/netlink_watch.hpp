// Tells whether network links or addresses changed since the last look, from
// rtnetlink notifications (RTMGRP_LINK, IPv4/IPv6 address groups), so the
// stats collector re-reads interfaces with getifaddrs(3) only when something
// changed instead of dumping every link and address on each sample.
#pragma once

namespace tether::agent {

class netlink_watch {
 public:
  netlink_watch();
  ~netlink_watch();
  netlink_watch(const netlink_watch&) = delete;
  netlink_watch& operator=(const netlink_watch&) = delete;

  // True on the first call, after any notification, after lost
  // notifications (ENOBUFS), and always if the socket could not be opened.
  // Never blocks: drains what is queued with non-blocking reads.
  bool changed();

 private:
  int fd_ = -1;
  bool first_ = true;
};

}  // namespace tether::agent
