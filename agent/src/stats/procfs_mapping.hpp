// The /proc (and a little /sys) part of a stats sample: uptime, CPU times,
// memory, load, pressure, process count and disk counters, each read from a
// file kept open between samples and mapped onto the sample's messages.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "stats/stats_options.hpp"
#include "sys/proc_file.hpp"
#include "sys/procfs.hpp"
#include "tether/v1/stats.pb.h"

namespace tether::agent {

class procfs_mapping {
 public:
  procfs_mapping(const stats_roots& roots, const stats_limits& limits);

  // Fills uptime, cpu, memory, load, pressure, process_count and disks; a
  // part that cannot be read is left unset and reported in s.errors.
  void read(v1::StatsSample& s, const collect_options& opts);

  // System calls spent reading its files so far.
  std::size_t syscalls() const;

 private:
  void read_uptime(v1::StatsSample& s);
  void read_cpu(v1::StatsSample& s);
  void read_memory(v1::StatsSample& s);
  void read_load(v1::StatsSample& s);
  void read_pressure(v1::StatsSample& s);
  void read_processes(v1::StatsSample& s);
  void read_disks(v1::StatsSample& s, const collect_options& opts);
  bool is_partition(std::uint32_t major, std::uint32_t minor, const std::string& name);

  stats_limits limits_;
  stats_roots roots_;
  proc_file stat_, meminfo_, loadavg_, uptime_, diskstats_;
  proc_file psi_cpu_, psi_memory_, psi_io_;
  pid_counter pids_;
  std::uint32_t clock_ticks_;
  // (major, minor) -> (name, is partition): sysfs is asked once per device.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::pair<std::string, bool>> partitions_;
};

}  // namespace tether::agent
