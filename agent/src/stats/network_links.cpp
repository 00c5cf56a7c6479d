#include "stats/network_links.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "stats/sample_errors.hpp"
#include "sys/procfs.hpp"

namespace tether::agent {

namespace {

std::string mac_string(const unsigned char* a, std::size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ':';
    s += hex[a[i] >> 4];
    s += hex[a[i] & 15];
  }
  return s;
}

std::uint32_t prefix_length(const sockaddr* mask) {
  if (!mask) return 0;
  std::uint32_t bits = 0;
  if (mask->sa_family == AF_INET) {
    std::uint32_t m;
    std::memcpy(&m, &reinterpret_cast<const sockaddr_in*>(mask)->sin_addr, 4);
    bits = static_cast<std::uint32_t>(std::popcount(m));
  } else if (mask->sa_family == AF_INET6) {
    const auto* b = reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr.s6_addr;
    for (int i = 0; i < 16; ++i) bits += static_cast<std::uint32_t>(std::popcount(static_cast<unsigned>(b[i])));
  }
  return bits;
}

// getifaddrs names IPv4 aliases "eth0:1"; they belong to eth0.
std::string_view base_name(std::string_view n) { return n.substr(0, n.find(':')); }

// Interfaces whose sysfs attributes stay open between samples (2 fds each).
constexpr std::size_t max_kept_ifaces = 128;

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

std::uint32_t to_u32(std::string_view s) {
  std::uint32_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

network_links::network_links(const stats_roots& roots, const stats_limits& limits)
    : limits_(limits), roots_(roots), net_dev_(roots_.proc + "/net/dev", proc_file::layout::records) {}

void network_links::read(v1::StatsSample& s) {
  std::error_code ec;
  auto text = net_dev_.read(ec);
  if (ec) return add_error(s, "cannot read " + net_dev_.path(), ec);
  const auto devs = procfs::parse_net_dev(text);

  if (link_changes_.changed() || links_stale_) refresh_links(s);

  std::size_t listed = 0;
  for (const auto& d : devs) {
    if (listed >= limits_.max_list_entries) break;
    ++listed;
    auto* o = s.add_interfaces();
    o->set_name(d.name);
    auto [state, mtu] = link_attributes(d.name);
    o->set_oper_state(std::move(state));
    o->set_mtu(mtu);
    if (auto it = links_.find(d.name); it != links_.end()) {
      o->set_mac(it->second.mac);
      o->set_admin_up((it->second.flags & IFF_UP) != 0);
      o->set_running((it->second.flags & IFF_RUNNING) != 0);
      o->set_loopback((it->second.flags & IFF_LOOPBACK) != 0);
      for (const auto& a : it->second.addresses) *o->add_addresses() = a;
    }
    o->set_rx_bytes(d.rx_bytes);
    o->set_rx_packets(d.rx_packets);
    o->set_rx_errors(d.rx_errors);
    o->set_rx_dropped(d.rx_dropped);
    o->set_tx_bytes(d.tx_bytes);
    o->set_tx_packets(d.tx_packets);
    o->set_tx_errors(d.tx_errors);
    o->set_tx_dropped(d.tx_dropped);
    o->set_rx_multicast(d.rx_multicast);
    o->set_collisions(d.tx_collisions);
  }
  if (listed < devs.size())
    s.add_errors("interface list cut at " + std::to_string(listed) + " of " + std::to_string(devs.size()) +
                 " interfaces");
  // Close the descriptors of interfaces that are gone.
  std::erase_if(ifaces_, [](auto& kv) {
    const bool gone = !kv.second->seen;
    kv.second->seen = false;
    return gone;
  });
}

void network_links::refresh_links(v1::StatsSample& s) {
  links_.clear();
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    add_error(s, "getifaddrs", {errno, std::generic_category()});
    links_stale_ = true;  // try again next time
    return;
  }
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_name) continue;
    auto& l = links_[std::string(base_name(a->ifa_name))];
    l.flags |= a->ifa_flags;
    if (!a->ifa_addr) continue;
    const int fam = a->ifa_addr->sa_family;
    if (fam == AF_PACKET) {
      const auto* ll = reinterpret_cast<const sockaddr_ll*>(a->ifa_addr);
      if (ll->sll_halen > 0 && ll->sll_halen <= sizeof ll->sll_addr) l.mac = mac_string(ll->sll_addr, ll->sll_halen);
    } else if (fam == AF_INET || fam == AF_INET6) {
      char buf[INET6_ADDRSTRLEN] = {};
      v1::InterfaceAddress addr;
      if (fam == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
        addr.set_family(v1::InterfaceAddress::FAMILY_IPV4);
      } else {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
        addr.set_family(v1::InterfaceAddress::FAMILY_IPV6);
        addr.set_scope_id(in6->sin6_scope_id);
      }
      addr.set_address(buf);
      addr.set_prefix_length(prefix_length(a->ifa_netmask));
      l.addresses.push_back(std::move(addr));
    }
  }
  ::freeifaddrs(list);
  links_stale_ = false;
}

std::pair<std::string, std::uint32_t> network_links::link_attributes(const std::string& name) {
  // Names come from the kernel, but never let one walk out of the directory.
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") return {};
  const std::string dir = roots_.sys + "/class/net/" + name + "/";
  std::error_code ec;
  auto it = ifaces_.find(name);
  if (it == ifaces_.end() && ifaces_.size() < max_kept_ifaces)
    it = ifaces_.emplace(name, std::make_unique<iface_files>(dir)).first;
  if (it == ifaces_.end()) {
    std::string state = read_small_file(dir + "operstate", ec);
    const std::string mtu = read_small_file(dir + "mtu", ec);
    return {std::move(state), to_u32(mtu)};
  }
  auto& f = *it->second;
  f.seen = true;
  std::string state(trim_newline(f.operstate.read(ec)));
  const auto mtu = to_u32(trim_newline(f.mtu.read(ec)));
  return {std::move(state), mtu};
}

}  // namespace tether::agent
