// The network part of a stats sample: counters per interface from
// /proc/net/dev, operstate and MTU from sysfs (kept open), flags, MAC and
// addresses from getifaddrs, asked again only when rtnetlink reports a
// change.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "stats/stats_options.hpp"
#include "sys/netlink_watch.hpp"
#include "sys/proc_file.hpp"
#include "tether/v1/stats.pb.h"

namespace tether::agent {

class network_links {
 public:
  network_links(const stats_roots& roots, const stats_limits& limits);

  // Fills interfaces; what cannot be read is reported in s.errors.
  void read(v1::StatsSample& s);

  // System calls spent reading /proc/net/dev so far.
  std::size_t syscalls() const { return net_dev_.syscalls(); }

 private:
  void refresh_links(v1::StatsSample& s);
  // operstate and mtu of an interface, from descriptors kept per interface.
  std::pair<std::string, std::uint32_t> link_attributes(const std::string& name);

  // sysfs attributes of one interface, kept open between samples.
  struct iface_files {
    iface_files(const std::string& dir)
        : operstate(dir + "operstate", proc_file::layout::single_record, 64),
          mtu(dir + "mtu", proc_file::layout::single_record, 64) {}
    proc_file operstate, mtu;
    bool seen = false;
  };

  stats_limits limits_;
  stats_roots roots_;
  proc_file net_dev_;
  // Bounded (max_kept_ifaces): past it, attributes are read with open/read/close.
  std::map<std::string, std::unique_ptr<iface_files>, std::less<>> ifaces_;
  // Flags, MAC and addresses per interface, from getifaddrs; refreshed only
  // when rtnetlink reports a change.
  struct link_info {
    unsigned flags = 0;
    std::string mac;
    std::vector<v1::InterfaceAddress> addresses;
  };
  std::map<std::string, link_info, std::less<>> links_;
  netlink_watch link_changes_;
  bool links_stale_ = true;
};

}  // namespace tether::agent
