// What libvirt lists from the agent: guest-network-get-interfaces (virsh
// domifaddr --source agent), guest-get-fsinfo (domfsinfo), guest-get-disks
// (guestinfo --disk). Reply shapes of qemu-ga 7.2: interfaces in index
// order, hardware-address for each, ip-addresses and statistics only for
// those with an address (statistics from /proc/net/dev through the stats
// service's parser); filesystems on device paths, newest mount first, with
// the disks below them; disks of non-zero size with their partitions.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <bit>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "qga/block_devices.hpp"
#include "qga/qga_agent.hpp"
#include "qga/sys_text.hpp"
#include "sys/procfs.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent::qga {
namespace {

int prefix_of(const sockaddr* mask) {
  if (!mask) return 0;
  int bits = 0;
  if (mask->sa_family == AF_INET) {
    bits = std::popcount(reinterpret_cast<const sockaddr_in*>(mask)->sin_addr.s_addr);
  } else if (mask->sa_family == AF_INET6) {
    for (const auto b : reinterpret_cast<const sockaddr_in6*>(mask)->sin6_addr.s6_addr) bits += std::popcount(b);
  }
  return bits;
}

std::optional<std::string> hardware_address(int sock, const std::string& name) {
  ifreq ifr{};
  if (name.size() >= sizeof ifr.ifr_name) return std::nullopt;
  std::memcpy(ifr.ifr_name, name.c_str(), name.size());
  if (::ioctl(sock, SIOCGIFHWADDR, &ifr) != 0) return std::nullopt;
  const auto* a = reinterpret_cast<const unsigned char*>(ifr.ifr_hwaddr.sa_data);
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
  return std::string(buf);
}

json::value network_interfaces() {
  ifaddrs* raw = nullptr;
  if (::getifaddrs(&raw) != 0)
    throw qga_error(std::string("getifaddrs failed: ") + std::strerror(errno));
  std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> list(raw, ::freeifaddrs);
  unique_fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const auto stats = procfs::parse_net_dev(read_text("/proc/net/dev"));

  json::array out;
  auto find = [&](const std::string& name) -> json::object& {
    for (auto& v : out)
      if (v.as_object().at("name").as_string() == name) return v.as_object();
    json::object o{{"name", name}};
    if (auto hw = hardware_address(sock.get(), name)) o["hardware-address"] = *hw;
    out.push_back(std::move(o));
    return out.back().as_object();
  };
  for (const ifaddrs* a = list.get(); a; a = a->ifa_next) {
    const std::string name = a->ifa_name ? a->ifa_name : "";
    if (name.empty()) continue;
    auto& info = find(name);
    if (!a->ifa_addr || (a->ifa_addr->sa_family != AF_INET && a->ifa_addr->sa_family != AF_INET6)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    const bool v4 = a->ifa_addr->sa_family == AF_INET;
    const void* addr = v4 ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr);
    if (!::inet_ntop(a->ifa_addr->sa_family, addr, text, sizeof text)) continue;
    if (!info.contains("ip-addresses")) info["ip-addresses"] = json::array();
    info["ip-addresses"].as_array().push_back(json::object{
        {"ip-address-type", v4 ? "ipv4" : "ipv6"}, {"ip-address", text}, {"prefix", prefix_of(a->ifa_netmask)}});
    if (!info.contains("statistics")) {
      for (const auto& s : stats) {
        if (s.name != name) continue;
        info["statistics"] = json::object{
            {"rx-bytes", s.rx_bytes}, {"rx-packets", s.rx_packets}, {"rx-errs", s.rx_errors},
            {"rx-dropped", s.rx_dropped}, {"tx-bytes", s.tx_bytes}, {"tx-packets", s.tx_packets},
            {"tx-errs", s.tx_errors}, {"tx-dropped", s.tx_dropped}};
      }
    }
  }
  return out;
}

json::array disks_json(const std::string& sysfs_dir) {
  json::array out;
  for (const auto& d : disks_under(sysfs_dir)) out.push_back(to_json(d));
  return out;
}

json::value fsinfo() {
  namespace fs = std::filesystem;
  json::array out;
  std::istringstream lines(read_text("/proc/self/mountinfo"));
  for (std::string line; std::getline(lines, line);) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS
    std::istringstream in(line);
    std::string id, parent, majmin, root, mountpoint, word, type, source;
    in >> id >> parent >> majmin >> root >> mountpoint;
    while (in >> word && word != "-") {
    }
    in >> type >> source;
    if (source.empty() || source[0] != '/') continue;
    mountpoint = procfs::unescape_mount_field(mountpoint);
    const std::string sys = "/sys/dev/block/" + majmin;
    std::error_code ec;
    const auto real = fs::canonical(sys, ec);
    if (ec) continue;  // not a block device (a bind of a file)
    json::object o{{"name", real.filename().string()}, {"mountpoint", mountpoint}, {"type", type}};
    struct statvfs st{};
    if (::statvfs(mountpoint.c_str(), &st) == 0) {
      // As qemu-ga: "total" is what users can fill (used + available).
      o["used-bytes"] = static_cast<std::uint64_t>(st.f_blocks - st.f_bfree) * st.f_frsize;
      o["total-bytes"] = static_cast<std::uint64_t>(st.f_blocks - st.f_bfree + st.f_bavail) * st.f_frsize;
    }
    o["disk"] = disks_json(sys);
    out.insert(out.begin(), std::move(o));
  }
  return out;
}

json::value disks() {
  namespace fs = std::filesystem;
  json::array out;
  std::error_code ec;
  for (const auto& path : list_dir("/sys/block")) {
    const std::string name = path.filename().string();
    const std::string size = read_text(path.string() + "/size");
    if (size.empty() || std::stoull(size) == 0) continue;  // unattached loop, empty zram
    const std::string dev = "/dev/" + name;
    json::array deps;
    for (const auto& slave : list_dir(path.string() + "/slaves"))
      deps.push_back(json::string("/dev/" + slave.filename().string()));
    json::object disk{{"name", dev}, {"partition", false}, {"dependencies", std::move(deps)}};
    if (auto alias = read_text(path.string() + "/dm/name"); !alias.empty()) {
      if (alias.back() == '\n') alias.pop_back();
      disk["alias"] = alias;
    }
    if (auto a = disks_json(path.string()); !a.empty()) disk["address"] = a.front();
    for (const auto& p : list_dir(path.string())) {
      if (!fs::exists(p / "partition", ec)) continue;
      out.push_back(json::object{{"name", "/dev/" + p.filename().string()},
                                 {"partition", true},
                                 {"dependencies", json::array{json::string(dev)}}});
    }
    out.push_back(std::move(disk));
  }
  return out;
}

}  // namespace

void add_inventory_commands(std::vector<command_def>& t) {
  t.push_back(simple_command("guest-get-disks", "stats", disks));
  t.push_back(simple_command("guest-get-fsinfo", "stats", fsinfo));
  t.push_back(simple_command("guest-network-get-interfaces", "stats", network_interfaces));
}

}  // namespace tether::agent::qga
