#include "stats/rates.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tether::agent {

namespace {

std::uint64_t delta(std::uint64_t cur, std::uint64_t prev) { return cur >= prev ? cur - prev : 0; }

void cpu_percent(const v1::CpuTimes& p, const v1::CpuTimes& c, v1::Cpu& out) {
  const std::uint64_t d[8] = {delta(c.user(), p.user()),       delta(c.nice(), p.nice()),
                              delta(c.system(), p.system()),   delta(c.idle(), p.idle()),
                              delta(c.iowait(), p.iowait()),   delta(c.irq(), p.irq()),
                              delta(c.softirq(), p.softirq()), delta(c.steal(), p.steal())};
  std::uint64_t total = 0;
  for (auto v : d) total += v;
  if (total == 0) return;  // no tick elapsed: nothing to say
  // 100 * d / total (not d * (100 / total)): exact 100 when d == total.
  auto share = [total](std::uint64_t v) {
    return std::clamp(100.0 * static_cast<double>(v) / static_cast<double>(total), 0.0, 100.0);
  };
  auto* pc = out.mutable_percent();
  pc->set_user(share(d[0]));
  pc->set_nice(share(d[1]));
  pc->set_system(share(d[2]));
  pc->set_idle(share(d[3]));
  pc->set_iowait(share(d[4]));
  pc->set_irq(share(d[5]));
  pc->set_softirq(share(d[6]));
  pc->set_steal(share(d[7]));
  pc->set_busy(share(total - d[3] - d[4]));
}

template <class T, class Key>
std::unordered_map<Key, const T*> index_by(const google::protobuf::RepeatedPtrField<T>& list,
                                           Key (*key)(const T&)) {
  std::unordered_map<Key, const T*> m;
  m.reserve(static_cast<std::size_t>(list.size()));
  for (const auto& x : list) m.emplace(key(x), &x);
  return m;
}

std::string_view disk_key(const v1::DiskStats& d) { return d.name(); }
std::string_view iface_key(const v1::NetworkInterface& n) { return n.name(); }
int cpu_key(const v1::Cpu& c) { return c.cpu(); }

}  // namespace

void compute_rates(const v1::StatsSample& prev, v1::StatsSample& cur) {
  if (cur.monotonic_ns() <= prev.monotonic_ns()) return;
  const auto ns = static_cast<std::uint64_t>(cur.monotonic_ns() - prev.monotonic_ns());
  cur.set_interval_ns(ns);
  const double secs = static_cast<double>(ns) / 1e9;
  auto per_s = [secs](std::uint64_t c, std::uint64_t p) { return static_cast<double>(delta(c, p)) / secs; };

  if (prev.has_cpu() && cur.has_cpu()) {
    const auto& pc = prev.cpu();
    auto* cc = cur.mutable_cpu();
    if (pc.has_total() && cc->has_total()) cpu_percent(pc.total().times(), cc->total().times(), *cc->mutable_total());
    const auto by_cpu = index_by(pc.per_cpu(), cpu_key);
    for (auto& c : *cc->mutable_per_cpu())
      if (auto it = by_cpu.find(c.cpu()); it != by_cpu.end()) cpu_percent(it->second->times(), c.times(), c);
    cc->set_context_switches_per_second(per_s(cc->context_switches(), pc.context_switches()));
    cc->set_interrupts_per_second(per_s(cc->interrupts(), pc.interrupts()));
    cc->set_forks_per_second(per_s(cc->forks(), pc.forks()));
  }

  const auto by_disk = index_by(prev.disks(), disk_key);
  for (auto& d : *cur.mutable_disks()) {
    auto it = by_disk.find(d.name());
    if (it == by_disk.end()) continue;
    const auto& p = *it->second;
    if (p.major() != d.major() || p.minor() != d.minor()) continue;  // a different device now
    d.set_read_bytes_per_second(per_s(d.sectors_read(), p.sectors_read()) * 512);
    d.set_write_bytes_per_second(per_s(d.sectors_written(), p.sectors_written()) * 512);
    d.set_reads_per_second(per_s(d.reads_completed(), p.reads_completed()));
    d.set_writes_per_second(per_s(d.writes_completed(), p.writes_completed()));
    d.set_busy_percent(std::clamp(static_cast<double>(delta(d.io_ms(), p.io_ms())) / (secs * 1000) * 100, 0.0, 100.0));
  }

  const auto by_iface = index_by(prev.interfaces(), iface_key);
  for (auto& n : *cur.mutable_interfaces()) {
    auto it = by_iface.find(n.name());
    if (it == by_iface.end()) continue;
    const auto& p = *it->second;
    n.set_rx_bytes_per_second(per_s(n.rx_bytes(), p.rx_bytes()));
    n.set_tx_bytes_per_second(per_s(n.tx_bytes(), p.tx_bytes()));
    n.set_rx_packets_per_second(per_s(n.rx_packets(), p.rx_packets()));
    n.set_tx_packets_per_second(per_s(n.tx_packets(), p.tx_packets()));
  }
}

void fit_sample(v1::StatsSample& s, std::size_t max_bytes) {
  if (s.ByteSizeLong() <= max_bytes) return;
  s.mutable_cpu()->clear_per_cpu();
  s.add_errors("per-CPU detail dropped: the sample exceeded " + std::to_string(max_bytes) + " bytes");
  if (s.ByteSizeLong() <= max_bytes) return;
  for (auto& n : *s.mutable_interfaces()) n.clear_addresses();
  s.add_errors("interface addresses dropped: the sample exceeded " + std::to_string(max_bytes) + " bytes");
  if (s.ByteSizeLong() <= max_bytes) return;
  s.clear_disks();
  s.clear_filesystems();
  s.clear_interfaces();
  s.add_errors("disk, filesystem and interface lists dropped: the sample exceeded " +
               std::to_string(max_bytes) + " bytes");
}

}  // namespace tether::agent
