// The guest's CPU, memory, load, pressure, disk, filesystem and network
// statistics: one snapshot, or samples pushed by the agent at an interval.
//
//   auto s = co_await tether::stats::get(guest, {.rate_interval = 250ms});
//   double cpu = s.cpu.total.percent->busy;
//
//   auto sub = co_await tether::stats::subscribe(guest, {.interval = 100ms});
//   while (auto sample = co_await sub.next()) {   // nullopt: subscription ended
//     ...
//   }
//
// Counters are the guest kernel's (/proc/stat, /proc/meminfo, /proc/diskstats,
// /proc/net/dev, ...); rates (percent, per second) are computed by the agent
// between two samples and unset (std::nullopt) without an earlier sample.
// A subscriber that reads slowly is not sent a backlog: the agent skips
// samples while the host reads nothing and reports how many in the next
// sample (sample::skipped).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"

namespace tether {
class blocking_client;
template <class Subscription>
class blocking_subscription;
}  // namespace tether

namespace tether::stats {

// CPU time in clock ticks (cpu_stats::clock_ticks_per_second) since boot,
// as in /proc/stat.
struct cpu_times {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  std::uint64_t guest = 0, guest_nice = 0;  // included in user and nice
};

// Share of CPU time between two samples, 0 to 100 each. The first eight add
// up to 100.
struct cpu_percent {
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  double busy = 0;  // everything but idle and iowait
};

struct cpu {
  int number = -1;  // N of the "cpuN" line; -1 for the all-CPUs total
  cpu_times times;
  std::optional<cpu_percent> percent;  // unset without an earlier sample
};

struct cpu_stats {
  // All CPUs together (percentages are of all CPUs: 100 = every CPU busy).
  cpu total;
  std::vector<cpu> per_cpu;  // one per online CPU
  std::uint32_t online_cpus = 0;
  std::uint32_t clock_ticks_per_second = 0;  // unit of cpu_times
  // /proc/stat "ctxt", "intr", "processes" (forks since boot),
  // "procs_running", "procs_blocked", "btime" (boot time, epoch seconds).
  std::uint64_t context_switches = 0, interrupts = 0, forks = 0;
  std::uint32_t procs_running = 0, procs_blocked = 0;
  std::uint64_t boot_time_seconds = 0;
  std::optional<double> context_switches_per_second, interrupts_per_second, forks_per_second;
};

// /proc/meminfo, in bytes.
struct memory_stats {
  std::uint64_t total_bytes = 0;  // MemTotal
  std::uint64_t free_bytes = 0;   // MemFree
  std::optional<std::uint64_t> available_bytes;  // MemAvailable (Linux 3.14+)
  std::uint64_t buffers_bytes = 0, cached_bytes = 0, shmem_bytes = 0, slab_reclaimable_bytes = 0;
  std::uint64_t dirty_bytes = 0, writeback_bytes = 0;
  std::uint64_t swap_total_bytes = 0, swap_free_bytes = 0, swap_cached_bytes = 0;
  std::uint64_t used_bytes = 0;  // total - available, as `free` reports it
};

// /proc/loadavg.
struct load_stats {
  double load1 = 0, load5 = 0, load15 = 0;
  std::uint32_t running_tasks = 0, total_tasks = 0;  // scheduling entities (threads)
  std::uint32_t last_pid = 0;
};

// One line of a /proc/pressure file: percent of wall time with stalled
// tasks, averaged over 10, 60 and 300 s, and the total stall time.
struct pressure_line {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  std::uint64_t total_us = 0;
};

// /proc/pressure/<resource>; `full` is unset where the kernel has no such line.
struct pressure {
  std::optional<pressure_line> some, full;
};

// Pressure stall information; each resource is unset where the kernel lacks it.
struct pressure_stats {
  std::optional<pressure> cpu, memory, io;
};

// One line of /proc/diskstats (whole disks and partitions).
struct disk_stats {
  std::string name;
  std::uint32_t major = 0, minor = 0;
  bool partition = false;
  std::uint64_t reads_completed = 0, reads_merged = 0;
  std::uint64_t sectors_read = 0;  // 512-byte units
  std::uint64_t read_ms = 0;
  std::uint64_t writes_completed = 0, writes_merged = 0;
  std::uint64_t sectors_written = 0;  // 512-byte units
  std::uint64_t write_ms = 0;
  std::uint64_t ios_in_progress = 0;  // a gauge
  std::uint64_t io_ms = 0, weighted_io_ms = 0;
  std::optional<std::uint64_t> discards_completed, sectors_discarded;  // Linux 4.18+
  std::optional<std::uint64_t> flushes_completed;                      // Linux 5.5+
  std::optional<double> read_bytes_per_second, write_bytes_per_second;
  std::optional<double> reads_per_second, writes_per_second;
  std::optional<double> busy_percent;  // share of the interval with I/O in flight
};

// A mounted filesystem (statvfs); pseudo filesystems are left out.
struct filesystem_stats {
  std::string mount_point;
  std::string device;   // mount source, e.g. /dev/vda1, tmpfs
  std::string fs_type;  // e.g. ext4
  bool read_only = false;
  std::uint64_t total_bytes = 0, used_bytes = 0;
  std::uint64_t free_bytes = 0;       // including blocks reserved for root
  std::uint64_t available_bytes = 0;  // free to unprivileged users
  std::uint64_t total_inodes = 0, free_inodes = 0, used_inodes = 0;  // total 0: no limit
  std::uint32_t block_size = 0;
};

struct interface_address {
  enum class family_kind { unspecified, ipv4, ipv6 };
  family_kind family = family_kind::unspecified;
  std::string address;  // textual, without a scope suffix
  std::uint32_t prefix_length = 0;
  std::uint32_t scope_id = 0;  // IPv6 scope id, else 0
};

// A network interface (/proc/net/dev, /sys/class/net, getifaddrs).
struct network_interface {
  std::string name;
  std::string oper_state;  // up, down, unknown, ...; empty if unreadable
  std::uint32_t mtu = 0;
  std::string mac;  // lower-case hex with colons; empty if none
  bool admin_up = false, running = false, loopback = false;
  std::vector<interface_address> addresses;
  std::uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
  std::uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
  std::uint64_t rx_multicast = 0, collisions = 0;
  std::optional<double> rx_bytes_per_second, tx_bytes_per_second;
  std::optional<double> rx_packets_per_second, tx_packets_per_second;
};

// One sample of the guest's statistics (proto/tether/v1/stats.proto,
// StatsSample, documents each field).
struct sample {
  std::int64_t realtime_ns = 0;   // guest CLOCK_REALTIME when taken
  std::int64_t monotonic_ns = 0;  // guest CLOCK_MONOTONIC when taken
  std::uint64_t sequence = 0;     // subscription: 1, 2, 3, ...; get: 0
  // Subscription: samples skipped since the previous one, and in total.
  std::uint64_t skipped = 0, skipped_total = 0;
  std::uint64_t interval_ns = 0;  // distance the rates cover; 0 without rates
  double uptime_seconds = 0, idle_seconds = 0;  // /proc/uptime
  cpu_stats cpu;
  memory_stats memory;
  load_stats load;
  std::optional<pressure_stats> pressure;  // unset without /proc/pressure
  std::uint32_t process_count = 0;
  std::vector<disk_stats> disks;
  std::vector<filesystem_stats> filesystems;
  std::vector<network_interface> interfaces;
  // Parts that could not be collected, one message each; the rest is valid.
  std::vector<std::string> errors;
  std::uint64_t collect_ns = 0;  // time the agent spent collecting
};

// Accepted subscription intervals.
inline constexpr milliseconds min_interval{50};
inline constexpr milliseconds max_interval{3'600'000};
// Longest get_options::rate_interval.
inline constexpr milliseconds max_rate_interval{10'000};

struct get_options {
  // 0: rates (CPU %, bytes/s) only if the agent has a sample between 100 ms
  // and 10 s old (e.g. from a running subscription), otherwise unset. > 0:
  // rates always set, covering at least this long (the agent samples twice
  // this far apart when it has no usable earlier sample).
  milliseconds rate_interval{0};
  // Also list idle ram/loop/zram/nbd block devices.
  bool include_idle_devices = false;
};

// One sample. The call's deadline covers rate_interval. Throws tether::error
// (invalid_argument for a rate_interval out of range; remote errors;
// connectivity).
boost::asio::awaitable<sample> get(client& guest, get_options opts = {}, call_options call = {});

struct subscribe_options {
  // One sample now, then one every interval (min_interval to max_interval).
  milliseconds interval{1'000};
  // As in get_options.
  bool include_idle_devices = false;
  // End after this many samples (0: until cancelled).
  std::uint32_t max_samples = 0;
  // When the connection to the agent is lost (agent restarted, guest
  // rebooted, socket re-plugged), subscribe again and go on; the first
  // sample after that has no rates. Otherwise next() throws.
  bool auto_resume = true;
};

// A running stats.Subscribe call. Move-only; destroying it ends the call.
class subscription {
 public:
  // Checks the options; open() (or subscribe()) starts the call. `call`
  // bounds each (re)connection to the agent.
  subscription(client& guest, subscribe_options opts, call_options call = {});
  // An ended subscription (next() returns nullopt), to assign to later.
  subscription() = default;
  ~subscription();
  subscription(subscription&&) noexcept;
  subscription& operator=(subscription&&) = delete;

  // The next sample; nullopt once the subscription ended normally (after
  // max_samples, or after cancel()). Throws tether::error on failure.
  boost::asio::awaitable<std::optional<sample>> next();

  // Asks the agent to end the call; next() then returns nullopt.
  void cancel();

  milliseconds interval() const noexcept { return opts_.interval; }
  // Samples returned by next() so far.
  std::uint64_t samples_received() const noexcept { return received_; }
  // Samples the agent skipped (the reader was behind), as reported so far.
  std::uint64_t samples_skipped() const noexcept { return skipped_; }
  // Times the call was re-established after a lost connection.
  std::uint32_t resumes() const noexcept { return resumes_; }

  // Starts the call (subscribe() does this). Throws tether::error.
  boost::asio::awaitable<void> open();

 private:
  client* guest_ = nullptr;
  subscribe_options opts_;
  call_options call_;
  std::unique_ptr<call_stream> stream_;
  std::uint64_t received_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint32_t resumes_ = 0;
  bool cancelled_ = false;
  bool ended_ = false;
};

// Starts a subscription: the agent sends one sample at once, then one per
// interval. Throws tether::error (invalid_argument for an interval out of
// range; connectivity); the agent's refusal comes from next().
boost::asio::awaitable<subscription> subscribe(client& guest, subscribe_options opts = {},
                                               call_options call = {});

// Blocking forms (blocking_client.hpp).
sample get(blocking_client& guest, get_options opts = {}, call_options call = {});
blocking_subscription<subscription> subscribe(blocking_client& guest, subscribe_options opts = {},
                                              call_options call = {});

}  // namespace tether::stats
