// guest-network-get-route: the kernel's routing tables (/proc/net/route and
// /proc/net/ipv6_route). Not in qemu-ga 7.2 (Debian 12's); this follows
// upstream QEMU 9.1+ (qga/qapi-schema.json GuestNetworkRoute and
// qga/commands-linux.c): the same fields, in the schema's order, the same
// text for addresses, and lines that do not parse skipped.
#include <arpa/inet.h>

#include <cstdio>
#include <sstream>

#include "qga/qga_agent.hpp"
#include "qga/sys_text.hpp"

namespace tether::agent::qga {
namespace {

// /proc/net/route prints each address as the hex of its in-memory u32.
std::string ipv4(unsigned int v) {
  return std::to_string(v & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." + std::to_string((v >> 16) & 0xff) +
         "." + std::to_string((v >> 24) & 0xff);
}

// /proc/net/ipv6_route prints the 16 bytes in network order as hex.
std::string ipv6(const char* hex) {
  in6_addr a{};
  for (int i = 0; i < 16; ++i) std::sscanf(hex + 2 * i, "%02hhx", &a.s6_addr[i]);
  char text[INET6_ADDRSTRLEN];
  ::inet_ntop(AF_INET6, &a, text, sizeof text);
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

void add_ipv4(json::array& out) {
  const auto lines = lines_of(read_text("/proc/net/route"));
  for (std::size_t i = 1; i < lines.size(); ++i) {  // after the header
    char iface[64];
    unsigned int dest, gateway, flags, mask;
    int refcnt, use, metric, mtu, window, irtt;
    if (std::sscanf(lines[i].c_str(), "%63s %X %X %x %d %d %d %X %d %d %d", iface, &dest, &gateway, &flags,
                    &refcnt, &use, &metric, &mask, &mtu, &window, &irtt) != 11)
      continue;
    out.push_back(json::object{{"iface", iface}, {"destination", ipv4(dest)}, {"metric", metric},
                               {"gateway", ipv4(gateway)}, {"mask", ipv4(mask)}, {"irtt", irtt},
                               {"flags", flags}, {"refcnt", refcnt}, {"use", use}, {"window", window},
                               {"mtu", mtu}, {"version", 4}});
  }
}

void add_ipv6(json::array& out) {
  for (const auto& l : lines_of(read_text("/proc/net/ipv6_route"))) {
    char dest[33], source[33], next_hop[33], iface[64];
    unsigned int dest_len, source_len, metric, refcnt, use, flags;  // hex; QEMU stores them in ints
    if (std::sscanf(l.c_str(), "%32s %x %32s %x %32s %x %x %x %x %63s", dest, &dest_len, source, &source_len,
                    next_hop, &metric, &refcnt, &use, &flags, iface) != 10)
      continue;
    const auto as_int = [](unsigned int v) { return static_cast<std::int32_t>(v); };  // 0xffffffff: -1
    out.push_back(json::object{{"iface", iface}, {"destination", ipv6(dest)}, {"metric", as_int(metric)},
                               {"flags", flags}, {"refcnt", as_int(refcnt)}, {"use", as_int(use)},
                               {"desprefixlen", std::to_string(dest_len)}, {"source", ipv6(source)},
                               {"srcprefixlen", std::to_string(source_len)}, {"nexthop", ipv6(next_hop)},
                               {"version", 6}});
  }
}

}  // namespace

void add_route_command(std::vector<command_def>& t) {
  t.push_back(simple_command("guest-network-get-route", "stats", [] {
    json::array out;
    add_ipv4(out);
    add_ipv6(out);
    return json::value(std::move(out));
  }));
}

}  // namespace tether::agent::qga
