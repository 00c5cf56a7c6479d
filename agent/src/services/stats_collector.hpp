// Takes samples of the guest's statistics for the stats service, and computes
// rates between two samples. Reads /proc and /sys on the io_context (those
// reads never block for long); statvfs(2), which can hang on a dead network
// or FUSE mount, runs on a blocking_worker with a deadline.
#pragma once

#include <sys/statvfs.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "sys/blocking_worker.hpp"
#include "sys/netlink_watch.hpp"
#include "sys/proc_file.hpp"
#include "sys/procfs.hpp"
#include "tether/common/asio.hpp"
#include "tether/v1/stats.pb.h"

namespace tether::agent {

struct stats_limits {
  // Longest list of CPUs, disks, filesystems or interfaces in one sample;
  // longer lists are cut (and the cut reported in StatsSample.errors).
  std::size_t max_list_entries = 1024;
  // How long a sample waits for statvfs of all mounts before it is sent
  // without filesystems (and an error naming the mount that hangs).
  std::chrono::milliseconds statvfs_timeout{1000};
  // Largest serialized sample; above it per-CPU detail, then the device
  // lists are dropped, so a sample always fits the host's frame limit
  // (libtether accepts 1 MiB by default).
  std::size_t max_sample_bytes = 512 * 1024;
  // Subscriptions running at once (all sessions): each reads /proc on its
  // own timer, so a host must not be able to start a thousand of them.
  std::size_t max_subscriptions = 16;
};

struct collect_options {
  // List ram/loop/zram/nbd devices that never did I/O.
  bool include_idle_devices = false;
};

// Where the kernel's files are, and the statvfs to call: tests point these
// at fixture trees and at a statvfs that hangs.
struct stats_roots {
  std::string proc = "/proc";
  std::string sys = "/sys";
  int (*statvfs_fn)(const char*, struct statvfs*) = ::statvfs;
};

class stats_collector {
 public:
  stats_collector(asio::any_io_executor ex, stats_limits limits = {}, stats_roots r = {});
  ~stats_collector();
  stats_collector(const stats_collector&) = delete;
  stats_collector& operator=(const stats_collector&) = delete;

  // One sample, without rates (see compute_rates). Never fails for a part
  // that cannot be read: that part is left unset and reported in errors.
  // Throws operation_aborted when the calling coroutine is cancelled.
  awaitable<v1::StatsSample> collect(collect_options opts);

  // System calls spent reading /proc files so far (for cost accounting).
  std::size_t proc_syscalls() const;

 private:
  struct fs_job;

  void read_uptime(v1::StatsSample& s);
  void read_cpu(v1::StatsSample& s);
  void read_memory(v1::StatsSample& s);
  void read_load(v1::StatsSample& s);
  void read_pressure(v1::StatsSample& s);
  void read_processes(v1::StatsSample& s);
  void read_disks(v1::StatsSample& s, const collect_options& opts);
  void read_network(v1::StatsSample& s);
  awaitable<void> read_filesystems(v1::StatsSample& s);
  // statvfs of `mounts` on the worker, within statvfs_timeout; nullptr (and
  // an error in `s`) if it did not finish in time.
  awaitable<std::shared_ptr<fs_job>> run_remote_statvfs(v1::StatsSample& s,
                                                        std::vector<procfs::mount_entry> mounts);
  void add_filesystem(v1::StatsSample& s, const procfs::mount_entry& m, int err, const struct statvfs& st);
  bool is_partition(std::uint32_t major, std::uint32_t minor, const std::string& name);
  void error(v1::StatsSample& s, const std::string& what, const std::error_code& ec);
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

  asio::any_io_executor ex_;
  stats_limits limits_;
  stats_roots roots_;
  proc_file stat_, meminfo_, loadavg_, uptime_, diskstats_, mounts_, net_dev_;
  proc_file psi_cpu_, psi_memory_, psi_io_;
  pid_counter pids_;
  std::uint32_t clock_ticks_;
  // (major, minor) -> (name, is partition): sysfs is asked once per device.
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::pair<std::string, bool>> partitions_;
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
  // Storage mounts of the last /proc/self/mounts read, re-read only when the
  // kernel signals a change of the mount table.
  std::vector<procfs::mount_entry> mounts_cache_;
  bool links_stale_ = true;
  void refresh_links(v1::StatsSample& s);
  std::shared_ptr<fs_job> fs_job_;  // the latest statvfs job (maybe running)
  blocking_worker worker_;          // last: destroyed first, before fs_job_
};

// Sets the rates of `cur` (CPU percentages, per-second values, interval_ns)
// from the counters of `prev`, an earlier sample. CPUs are matched by
// number, disks and interfaces by name; entries without a match, and all
// rates when no time passed, stay unset. A counter that went backwards
// counts as no change.
void compute_rates(const v1::StatsSample& prev, v1::StatsSample& cur);

// Shrinks `s` below `max_bytes` serialized (see stats_limits).
void fit_sample(v1::StatsSample& s, std::size_t max_bytes);

}  // namespace tether::agent
