#include "stats_sample.hpp"

namespace tether::stats::detail {
namespace {

// A proto3 `optional` field as std::optional.
#define TETHER_OPT(msg, field) ((msg).has_##field() ? std::optional((msg).field()) : std::nullopt)

cpu to_cpu(const v1::Cpu& c) {
  cpu out;
  out.number = c.cpu();
  const auto& t = c.times();
  out.times = {.user = t.user(), .nice = t.nice(), .system = t.system(), .idle = t.idle(),
               .iowait = t.iowait(), .irq = t.irq(), .softirq = t.softirq(), .steal = t.steal(),
               .guest = t.guest(), .guest_nice = t.guest_nice()};
  if (c.has_percent()) {
    const auto& p = c.percent();
    out.percent = cpu_percent{.user = p.user(), .nice = p.nice(), .system = p.system(), .idle = p.idle(),
                              .iowait = p.iowait(), .irq = p.irq(), .softirq = p.softirq(),
                              .steal = p.steal(), .busy = p.busy()};
  }
  return out;
}

cpu_stats to_cpu_stats(const v1::CpuStats& c) {
  cpu_stats out;
  out.total = to_cpu(c.total());
  for (const auto& one : c.per_cpu()) out.per_cpu.push_back(to_cpu(one));
  out.online_cpus = c.online_cpus();
  out.clock_ticks_per_second = c.clock_ticks_per_second();
  out.context_switches = c.context_switches();
  out.interrupts = c.interrupts();
  out.forks = c.forks();
  out.procs_running = c.procs_running();
  out.procs_blocked = c.procs_blocked();
  out.boot_time_seconds = c.boot_time_seconds();
  out.context_switches_per_second = TETHER_OPT(c, context_switches_per_second);
  out.interrupts_per_second = TETHER_OPT(c, interrupts_per_second);
  out.forks_per_second = TETHER_OPT(c, forks_per_second);
  return out;
}

memory_stats to_memory(const v1::MemoryStats& m) {
  return {.total_bytes = m.total_bytes(), .free_bytes = m.free_bytes(),
          .available_bytes = TETHER_OPT(m, available_bytes), .buffers_bytes = m.buffers_bytes(),
          .cached_bytes = m.cached_bytes(), .shmem_bytes = m.shmem_bytes(),
          .slab_reclaimable_bytes = m.slab_reclaimable_bytes(), .dirty_bytes = m.dirty_bytes(),
          .writeback_bytes = m.writeback_bytes(), .swap_total_bytes = m.swap_total_bytes(),
          .swap_free_bytes = m.swap_free_bytes(), .swap_cached_bytes = m.swap_cached_bytes(),
          .used_bytes = m.used_bytes()};
}

std::optional<pressure_line> to_line(bool has, const v1::PressureLine& l) {
  if (!has) return std::nullopt;
  return pressure_line{.avg10 = l.avg10(), .avg60 = l.avg60(), .avg300 = l.avg300(), .total_us = l.total_us()};
}

std::optional<pressure> to_pressure(bool has, const v1::Pressure& p) {
  if (!has) return std::nullopt;
  return pressure{.some = to_line(p.has_some(), p.some()), .full = to_line(p.has_full(), p.full())};
}

disk_stats to_disk(const v1::DiskStats& d) {
  return {.name = d.name(), .major = d.major(), .minor = d.minor(), .partition = d.partition(),
          .reads_completed = d.reads_completed(), .reads_merged = d.reads_merged(),
          .sectors_read = d.sectors_read(), .read_ms = d.read_ms(),
          .writes_completed = d.writes_completed(), .writes_merged = d.writes_merged(),
          .sectors_written = d.sectors_written(), .write_ms = d.write_ms(),
          .ios_in_progress = d.ios_in_progress(), .io_ms = d.io_ms(), .weighted_io_ms = d.weighted_io_ms(),
          .discards_completed = TETHER_OPT(d, discards_completed),
          .sectors_discarded = TETHER_OPT(d, sectors_discarded),
          .flushes_completed = TETHER_OPT(d, flushes_completed),
          .read_bytes_per_second = TETHER_OPT(d, read_bytes_per_second),
          .write_bytes_per_second = TETHER_OPT(d, write_bytes_per_second),
          .reads_per_second = TETHER_OPT(d, reads_per_second),
          .writes_per_second = TETHER_OPT(d, writes_per_second), .busy_percent = TETHER_OPT(d, busy_percent)};
}

filesystem_stats to_filesystem(const v1::FilesystemStats& f) {
  return {.mount_point = f.mount_point(), .device = f.device(), .fs_type = f.fs_type(),
          .read_only = f.read_only(), .total_bytes = f.total_bytes(), .used_bytes = f.used_bytes(),
          .free_bytes = f.free_bytes(), .available_bytes = f.available_bytes(),
          .total_inodes = f.total_inodes(), .free_inodes = f.free_inodes(), .used_inodes = f.used_inodes(),
          .block_size = f.block_size()};
}

interface_address::family_kind to_family(v1::InterfaceAddress::Family f) {
  switch (f) {
    case v1::InterfaceAddress::FAMILY_IPV4: return interface_address::family_kind::ipv4;
    case v1::InterfaceAddress::FAMILY_IPV6: return interface_address::family_kind::ipv6;
    default: return interface_address::family_kind::unspecified;
  }
}

network_interface to_interface(const v1::NetworkInterface& n) {
  network_interface out{
      .name = n.name(), .oper_state = n.oper_state(), .mtu = n.mtu(), .mac = n.mac(),
      .admin_up = n.admin_up(), .running = n.running(), .loopback = n.loopback(), .addresses = {},
      .rx_bytes = n.rx_bytes(), .rx_packets = n.rx_packets(), .rx_errors = n.rx_errors(),
      .rx_dropped = n.rx_dropped(), .tx_bytes = n.tx_bytes(), .tx_packets = n.tx_packets(),
      .tx_errors = n.tx_errors(), .tx_dropped = n.tx_dropped(), .rx_multicast = n.rx_multicast(),
      .collisions = n.collisions(), .rx_bytes_per_second = TETHER_OPT(n, rx_bytes_per_second),
      .tx_bytes_per_second = TETHER_OPT(n, tx_bytes_per_second),
      .rx_packets_per_second = TETHER_OPT(n, rx_packets_per_second),
      .tx_packets_per_second = TETHER_OPT(n, tx_packets_per_second)};
  for (const auto& a : n.addresses())
    out.addresses.push_back({.family = to_family(a.family()), .address = a.address(),
                             .prefix_length = a.prefix_length(), .scope_id = a.scope_id()});
  return out;
}

#undef TETHER_OPT

}  // namespace

sample to_sample(const v1::StatsSample& s) {
  sample out;
  out.realtime_ns = s.realtime_ns();
  out.monotonic_ns = s.monotonic_ns();
  out.sequence = s.sequence();
  out.skipped = s.skipped();
  out.skipped_total = s.skipped_total();
  out.interval_ns = s.interval_ns();
  out.uptime_seconds = s.uptime_seconds();
  out.idle_seconds = s.idle_seconds();
  out.cpu = to_cpu_stats(s.cpu());
  out.memory = to_memory(s.memory());
  const auto& l = s.load();
  out.load = {.load1 = l.load1(), .load5 = l.load5(), .load15 = l.load15(), .running_tasks = l.running_tasks(),
              .total_tasks = l.total_tasks(), .last_pid = l.last_pid()};
  if (s.has_pressure()) {
    const auto& p = s.pressure();
    out.pressure = pressure_stats{.cpu = to_pressure(p.has_cpu(), p.cpu()),
                                  .memory = to_pressure(p.has_memory(), p.memory()),
                                  .io = to_pressure(p.has_io(), p.io())};
  }
  out.process_count = s.process_count();
  for (const auto& d : s.disks()) out.disks.push_back(to_disk(d));
  for (const auto& f : s.filesystems()) out.filesystems.push_back(to_filesystem(f));
  for (const auto& n : s.interfaces()) out.interfaces.push_back(to_interface(n));
  out.errors.assign(s.errors().begin(), s.errors().end());
  out.collect_ns = s.collect_ns();
  return out;
}

}  // namespace tether::stats::detail
