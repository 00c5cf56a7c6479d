// The filesystem part of a stats sample: statvfs of each storage mount.
// statvfs(2) can hang on a dead network or FUSE mount, so only local
// filesystems are asked on the io_context; the others go to a
// blocking_worker with a deadline, and a mount that hangs costs a sample
// without them (and an error naming it), never a frozen agent.
#pragma once

#include <sys/statvfs.h>

#include <memory>
#include <vector>

#include "stats/stats_options.hpp"
#include "sys/blocking_worker.hpp"
#include "sys/proc_file.hpp"
#include "sys/procfs.hpp"
#include "tether/common/asio.hpp"
#include "tether/v1/stats.pb.h"

namespace tether::agent {

class filesystem_usage {
 public:
  filesystem_usage(asio::any_io_executor ex, const stats_roots& roots, const stats_limits& limits);
  ~filesystem_usage();
  filesystem_usage(const filesystem_usage&) = delete;
  filesystem_usage& operator=(const filesystem_usage&) = delete;

  // Fills filesystems. Throws operation_aborted when the calling coroutine
  // is cancelled.
  awaitable<void> read(v1::StatsSample& s);

  // System calls spent reading /proc/self/mounts so far.
  std::size_t syscalls() const { return mounts_.syscalls(); }

 private:
  struct fs_job;

  // statvfs of `mounts` on the worker, within statvfs_timeout; nullptr (and
  // an error in `s`) if it did not finish in time.
  awaitable<std::shared_ptr<fs_job>> run_remote_statvfs(v1::StatsSample& s,
                                                        std::vector<procfs::mount_entry> mounts);
  void add_filesystem(v1::StatsSample& s, const procfs::mount_entry& m, int err, const struct statvfs& st);

  asio::any_io_executor ex_;
  stats_limits limits_;
  int (*statvfs_fn_)(const char*, struct statvfs*);
  proc_file mounts_;
  // Storage mounts of the last /proc/self/mounts read, re-read only when the
  // kernel signals a change of the mount table.
  std::vector<procfs::mount_entry> mounts_cache_;
  std::shared_ptr<fs_job> fs_job_;  // the latest statvfs job (maybe running)
  blocking_worker worker_;          // last: destroyed first, before fs_job_
};

}  // namespace tether::agent
