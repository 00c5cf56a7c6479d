// Takes samples of the guest's statistics for the stats service: one
// sample is the /proc part (stats/procfs_mapping), the network part
// (stats/network_links) and the filesystem part (stats/filesystem_usage,
// whose statvfs(2) calls that may hang run on a worker with a deadline).
// Rates between two samples: stats/rates.
#pragma once

#include <memory>

#include "stats/filesystem_usage.hpp"
#include "stats/network_links.hpp"
#include "stats/procfs_mapping.hpp"
#include "stats/rates.hpp"
#include "stats/stats_options.hpp"
#include "tether/common/asio.hpp"
#include "tether/v1/stats.pb.h"

namespace tether::agent {

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
  procfs_mapping proc_;
  network_links network_;
  filesystem_usage filesystems_;
};

}  // namespace tether::agent
