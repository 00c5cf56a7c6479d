// Parsers for the kernel's statistics files (/proc/stat, /proc/meminfo,
// /proc/loadavg, /proc/uptime, /proc/pressure/*, /proc/diskstats,
// /proc/self/mounts, /proc/net/dev). Pure functions over text: no I/O, so
// they are unit-tested against captured fixtures.
//
// All of them are forgiving in the same way: a malformed or unknown line is
// skipped, missing trailing fields (older kernels) read as absent or zero,
// extra fields (newer kernels) are ignored. They never throw on bad input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent::procfs {

// --- /proc/stat ------------------------------------------------------------

// Clock ticks (USER_HZ) per state. Fields a kernel does not report are 0.
struct cpu_times {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0, guest = 0, guest_nice = 0;
  bool operator==(const cpu_times&) const = default;
};

struct cpu_line {
  int cpu = -1;  // N of "cpuN"
  cpu_times times;
};

struct proc_stat {
  std::optional<cpu_times> total;  // the "cpu" line
  std::vector<cpu_line> per_cpu;   // "cpuN" lines, in file order
  std::uint64_t context_switches = 0;  // ctxt
  std::uint64_t interrupts = 0;        // first number of "intr"
  std::uint64_t forks = 0;             // processes
  std::uint64_t boot_time = 0;         // btime
  std::uint32_t procs_running = 0;
  std::uint32_t procs_blocked = 0;
};

proc_stat parse_stat(std::string_view text);

// --- /proc/meminfo ---------------------------------------------------------

// Values in bytes ("kB" is KiB). Keys the kernel does not have stay unset.
struct meminfo {
  std::optional<std::uint64_t> total, free, available, buffers, cached, shmem, slab_reclaimable,
      dirty, writeback, swap_total, swap_free, swap_cached;
};

meminfo parse_meminfo(std::string_view text);

// --- /proc/loadavg, /proc/uptime ---------------------------------------------

struct loadavg {
  double load1 = 0, load5 = 0, load15 = 0;
  std::uint32_t running = 0, total = 0;  // "running/total" scheduling entities
  std::uint32_t last_pid = 0;
};

std::optional<loadavg> parse_loadavg(std::string_view text);

struct uptime {
  double up_seconds = 0;
  double idle_seconds = 0;
};

std::optional<uptime> parse_uptime(std::string_view text);

// --- /proc/pressure/{cpu,memory,io} ------------------------------------------

struct pressure_line {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  std::uint64_t total_us = 0;
};

struct pressure {
  std::optional<pressure_line> some, full;
  bool empty() const { return !some && !full; }
};

pressure parse_pressure(std::string_view text);

// --- /proc/diskstats -----------------------------------------------------------

struct diskstat {
  std::uint32_t major = 0, minor = 0;
  std::string name;
  std::uint64_t reads_completed = 0, reads_merged = 0, sectors_read = 0, read_ms = 0;
  std::uint64_t writes_completed = 0, writes_merged = 0, sectors_written = 0, write_ms = 0;
  std::uint64_t ios_in_progress = 0, io_ms = 0, weighted_io_ms = 0;
  std::optional<std::uint64_t> discards_completed, discards_merged, sectors_discarded, discard_ms;
  std::optional<std::uint64_t> flushes_completed, flush_ms;

  // True if the device never did any I/O and has none in flight.
  bool idle() const;
};

std::vector<diskstat> parse_diskstats(std::string_view text);

// --- /proc/self/mounts ---------------------------------------------------------

struct mount_entry {
  std::string device, mount_point, fs_type, options;
  bool read_only = false;  // "ro" among the options
};

std::vector<mount_entry> parse_mounts(std::string_view text);
// Decodes the octal escapes the kernel uses in mount fields (\040 space,
// \011 tab, \012 newline, \134 backslash).
std::string unescape_mount_field(std::string_view field);
// Filesystems that describe kernel state rather than storage (proc, sysfs,
// cgroup, devpts, ...). tmpfs and devtmpfs are storage and are not pseudo.
bool is_pseudo_filesystem(std::string_view fs_type);

// --- /proc/net/dev -------------------------------------------------------------

struct net_dev {
  std::string name;
  std::uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0, rx_fifo = 0,
                rx_frame = 0, rx_compressed = 0, rx_multicast = 0;
  std::uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0, tx_fifo = 0,
                tx_collisions = 0, tx_carrier = 0, tx_compressed = 0;
};

std::vector<net_dev> parse_net_dev(std::string_view text);

// --- helpers ---------------------------------------------------------------------

// True for a /proc directory entry naming a process ("1234").
bool is_pid_name(std::string_view name);

}  // namespace tether::agent::procfs
