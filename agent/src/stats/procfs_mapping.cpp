#include "stats/procfs_mapping.hpp"

#include <unistd.h>

#include <algorithm>

#include "stats/sample_errors.hpp"

namespace tether::agent {

namespace {

void set_times(v1::CpuTimes& out, const procfs::cpu_times& t) {
  out.set_user(t.user);
  out.set_nice(t.nice);
  out.set_system(t.system);
  out.set_idle(t.idle);
  out.set_iowait(t.iowait);
  out.set_irq(t.irq);
  out.set_softirq(t.softirq);
  out.set_steal(t.steal);
  out.set_guest(t.guest);
  out.set_guest_nice(t.guest_nice);
}

void set_pressure(v1::Pressure& out, const procfs::pressure& p) {
  auto line = [](v1::PressureLine& l, const procfs::pressure_line& x) {
    l.set_avg10(x.avg10);
    l.set_avg60(x.avg60);
    l.set_avg300(x.avg300);
    l.set_total_us(x.total_us);
  };
  if (p.some) line(*out.mutable_some(), *p.some);
  if (p.full) line(*out.mutable_full(), *p.full);
}

// Devices that exist in numbers without being used.
bool is_virtual_idle_candidate(std::string_view name) {
  return name.starts_with("ram") || name.starts_with("loop") || name.starts_with("zram") ||
         name.starts_with("nbd");
}

}  // namespace

procfs_mapping::procfs_mapping(const stats_roots& roots, const stats_limits& limits)
    : limits_(limits),
      roots_(roots),
      stat_(roots_.proc + "/stat"),
      meminfo_(roots_.proc + "/meminfo"),
      loadavg_(roots_.proc + "/loadavg"),
      uptime_(roots_.proc + "/uptime"),
      diskstats_(roots_.proc + "/diskstats", proc_file::layout::records),
      psi_cpu_(roots_.proc + "/pressure/cpu"),
      psi_memory_(roots_.proc + "/pressure/memory"),
      psi_io_(roots_.proc + "/pressure/io"),
      pids_(roots_.proc),
      clock_ticks_(static_cast<std::uint32_t>(std::max(1L, ::sysconf(_SC_CLK_TCK)))) {}

std::size_t procfs_mapping::syscalls() const {
  std::size_t n = 0;
  for (const auto* f : {&stat_, &meminfo_, &loadavg_, &uptime_, &diskstats_, &psi_cpu_, &psi_memory_, &psi_io_})
    n += f->syscalls();
  return n;
}

void procfs_mapping::read(v1::StatsSample& s, const collect_options& opts) {
  read_uptime(s);
  read_cpu(s);
  read_memory(s);
  read_load(s);
  read_pressure(s);
  read_processes(s);
  read_disks(s, opts);
}

void procfs_mapping::read_uptime(v1::StatsSample& s) {
  std::error_code ec;
  auto text = uptime_.read(ec);
  if (ec) return add_error(s, "cannot read " + uptime_.path(), ec);
  if (auto u = procfs::parse_uptime(text)) {
    s.set_uptime_seconds(u->up_seconds);
    s.set_idle_seconds(u->idle_seconds);
  } else {
    s.add_errors(uptime_.path() + ": unexpected content");
  }
}

void procfs_mapping::read_cpu(v1::StatsSample& s) {
  std::error_code ec;
  auto text = stat_.read(ec);
  if (ec) return add_error(s, "cannot read " + stat_.path(), ec);
  const auto st = procfs::parse_stat(text);
  auto* cpu = s.mutable_cpu();
  cpu->set_clock_ticks_per_second(clock_ticks_);
  if (st.total) {
    cpu->mutable_total()->set_cpu(-1);
    set_times(*cpu->mutable_total()->mutable_times(), *st.total);
  } else {
    s.add_errors(stat_.path() + ": no \"cpu\" line");
  }
  cpu->set_online_cpus(static_cast<std::uint32_t>(st.per_cpu.size()));
  const auto n = std::min(st.per_cpu.size(), limits_.max_list_entries);
  cpu->mutable_per_cpu()->Reserve(static_cast<int>(n));
  for (std::size_t i = 0; i < n; ++i) {
    auto* c = cpu->add_per_cpu();
    c->set_cpu(st.per_cpu[i].cpu);
    set_times(*c->mutable_times(), st.per_cpu[i].times);
  }
  if (n < st.per_cpu.size())
    s.add_errors("per-CPU list cut at " + std::to_string(n) + " of " + std::to_string(st.per_cpu.size()) + " CPUs");
  cpu->set_context_switches(st.context_switches);
  cpu->set_interrupts(st.interrupts);
  cpu->set_forks(st.forks);
  cpu->set_procs_running(st.procs_running);
  cpu->set_procs_blocked(st.procs_blocked);
  cpu->set_boot_time_seconds(st.boot_time);
}

void procfs_mapping::read_memory(v1::StatsSample& s) {
  std::error_code ec;
  auto text = meminfo_.read(ec);
  if (ec) return add_error(s, "cannot read " + meminfo_.path(), ec);
  const auto m = procfs::parse_meminfo(text);
  if (!m.total) {
    s.add_errors(meminfo_.path() + ": no MemTotal");
    return;
  }
  auto* mem = s.mutable_memory();
  mem->set_total_bytes(*m.total);
  mem->set_free_bytes(m.free.value_or(0));
  if (m.available) mem->set_available_bytes(*m.available);
  mem->set_buffers_bytes(m.buffers.value_or(0));
  mem->set_cached_bytes(m.cached.value_or(0));
  mem->set_shmem_bytes(m.shmem.value_or(0));
  mem->set_slab_reclaimable_bytes(m.slab_reclaimable.value_or(0));
  mem->set_dirty_bytes(m.dirty.value_or(0));
  mem->set_writeback_bytes(m.writeback.value_or(0));
  mem->set_swap_total_bytes(m.swap_total.value_or(0));
  mem->set_swap_free_bytes(m.swap_free.value_or(0));
  mem->set_swap_cached_bytes(m.swap_cached.value_or(0));
  const std::uint64_t unused =
      m.available ? *m.available
                  : m.free.value_or(0) + m.buffers.value_or(0) + m.cached.value_or(0);
  mem->set_used_bytes(*m.total > unused ? *m.total - unused : 0);
}

void procfs_mapping::read_load(v1::StatsSample& s) {
  std::error_code ec;
  auto text = loadavg_.read(ec);
  if (ec) return add_error(s, "cannot read " + loadavg_.path(), ec);
  auto l = procfs::parse_loadavg(text);
  if (!l) {
    s.add_errors(loadavg_.path() + ": unexpected content");
    return;
  }
  auto* load = s.mutable_load();
  load->set_load1(l->load1);
  load->set_load5(l->load5);
  load->set_load15(l->load15);
  load->set_running_tasks(l->running);
  load->set_total_tasks(l->total);
  load->set_last_pid(l->last_pid);
}

void procfs_mapping::read_pressure(v1::StatsSample& s) {
  // PSI is optional (CONFIG_PSI, psi=0 on the command line, pre-4.20
  // kernels): a file that cannot be read means "not available", not an error.
  auto one = [&](proc_file& f) -> procfs::pressure {
    std::error_code ec;
    auto text = f.read(ec);
    if (ec) return {};
    return procfs::parse_pressure(text);
  };
  const auto cpu = one(psi_cpu_), memory = one(psi_memory_), io = one(psi_io_);
  if (cpu.empty() && memory.empty() && io.empty()) return;
  auto* p = s.mutable_pressure();
  if (!cpu.empty()) set_pressure(*p->mutable_cpu(), cpu);
  if (!memory.empty()) set_pressure(*p->mutable_memory(), memory);
  if (!io.empty()) set_pressure(*p->mutable_io(), io);
}

void procfs_mapping::read_processes(v1::StatsSample& s) {
  std::error_code ec;
  const long n = pids_.count(ec);
  if (ec) return add_error(s, "cannot list " + roots_.proc, ec);
  s.set_process_count(static_cast<std::uint32_t>(n));
}

bool procfs_mapping::is_partition(std::uint32_t major, std::uint32_t minor, const std::string& name) {
  const auto key = std::make_pair(major, minor);
  if (auto it = partitions_.find(key); it != partitions_.end() && it->second.first == name)
    return it->second.second;
  if (partitions_.size() > 4 * limits_.max_list_entries) partitions_.clear();
  const std::string path =
      roots_.sys + "/dev/block/" + std::to_string(major) + ":" + std::to_string(minor) + "/partition";
  const bool part = ::access(path.c_str(), F_OK) == 0;
  partitions_[key] = {name, part};
  return part;
}

void procfs_mapping::read_disks(v1::StatsSample& s, const collect_options& opts) {
  std::error_code ec;
  auto text = diskstats_.read(ec);
  if (ec) return add_error(s, "cannot read " + diskstats_.path(), ec);
  const auto disks = procfs::parse_diskstats(text);
  std::size_t listed = 0, total = 0;
  for (const auto& d : disks) {
    if (!opts.include_idle_devices && d.idle() && is_virtual_idle_candidate(d.name)) continue;
    ++total;
    if (listed >= limits_.max_list_entries) continue;
    ++listed;
    auto* o = s.add_disks();
    o->set_name(d.name);
    o->set_major(d.major);
    o->set_minor(d.minor);
    o->set_partition(is_partition(d.major, d.minor, d.name));
    o->set_reads_completed(d.reads_completed);
    o->set_reads_merged(d.reads_merged);
    o->set_sectors_read(d.sectors_read);
    o->set_read_ms(d.read_ms);
    o->set_writes_completed(d.writes_completed);
    o->set_writes_merged(d.writes_merged);
    o->set_sectors_written(d.sectors_written);
    o->set_write_ms(d.write_ms);
    o->set_ios_in_progress(d.ios_in_progress);
    o->set_io_ms(d.io_ms);
    o->set_weighted_io_ms(d.weighted_io_ms);
    if (d.discards_completed) o->set_discards_completed(*d.discards_completed);
    if (d.sectors_discarded) o->set_sectors_discarded(*d.sectors_discarded);
    if (d.flushes_completed) o->set_flushes_completed(*d.flushes_completed);
  }
  if (listed < total)
    s.add_errors("disk list cut at " + std::to_string(listed) + " of " + std::to_string(total) + " devices");
}

}  // namespace tether::agent
