#include "stats/filesystem_usage.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "stats/sample_errors.hpp"
#include "tether/common/race.hpp"

namespace tether::agent {

using clock = std::chrono::steady_clock;

namespace {

// Filesystems whose statfs is answered from memory by a local driver: safe
// to call on the io_context. Anything else (nfs, cifs, 9p, virtiofs, fuse.*,
// ceph, overlay over who knows what, a type we do not know) goes to the
// worker, where a hang costs a late sample instead of a frozen agent.
bool statfs_is_local(std::string_view t) {
  static constexpr std::string_view local[] = {
      "ext2",  "ext3",  "ext4",   "xfs",      "btrfs",   "tmpfs",    "devtmpfs", "vfat",
      "msdos", "exfat", "ntfs3",  "f2fs",     "squashfs", "iso9660", "erofs",    "jfs",
      "udf",   "hfsplus", "nilfs2", "bcachefs", "reiserfs", "zfs",    "ramfs"};
  return std::find(std::begin(local), std::end(local), t) != std::end(local);
}

}  // namespace

// statvfs of a list of mounts, done on the worker thread. Plain data only:
// it may outlive the collector if a call never returns.
struct fs_work {
  std::vector<procfs::mount_entry> mounts;
  struct result {
    int err = 0;
    struct statvfs st {};
  };
  std::vector<result> results;
  std::atomic<std::size_t> at{0};  // index being statvfs'd (names a hang)
};

struct filesystem_usage::fs_job {
  explicit fs_job(const asio::any_io_executor& ex)
      : finished(ex, asio::steady_timer::time_point::max()) {}
  std::shared_ptr<fs_work> work = std::make_shared<fs_work>();
  clock::time_point started;
  bool done = false;             // io thread only
  asio::steady_timer finished;   // cancelled when done, waking the waiters
};

filesystem_usage::filesystem_usage(asio::any_io_executor ex, const stats_roots& roots, const stats_limits& limits)
    : ex_(std::move(ex)),
      limits_(limits),
      statvfs_fn_(roots.statvfs_fn),
      mounts_(roots.proc + "/self/mounts", proc_file::layout::records) {}

filesystem_usage::~filesystem_usage() = default;

void filesystem_usage::add_filesystem(v1::StatsSample& s, const procfs::mount_entry& m, int err,
                                     const struct statvfs& st) {
  if (err) {
    // Not ours to see (EACCES) or gone since listed (ENOENT): say so.
    s.add_errors("statvfs(" + m.mount_point + "): " + std::strerror(err));
    return;
  }
  if (st.f_blocks == 0) return;  // no storage behind it
  const std::uint64_t bs = st.f_frsize ? st.f_frsize : st.f_bsize;
  auto* o = s.add_filesystems();
  o->set_mount_point(m.mount_point);
  o->set_device(m.device);
  o->set_fs_type(m.fs_type);
  o->set_read_only(m.read_only || (st.f_flag & ST_RDONLY));
  o->set_total_bytes(st.f_blocks * bs);
  o->set_free_bytes(st.f_bfree * bs);
  o->set_available_bytes(st.f_bavail * bs);
  o->set_used_bytes(st.f_blocks >= st.f_bfree ? (st.f_blocks - st.f_bfree) * bs : 0);
  o->set_total_inodes(st.f_files);
  o->set_free_inodes(st.f_ffree);
  o->set_used_inodes(st.f_files >= st.f_ffree ? st.f_files - st.f_ffree : 0);
  o->set_block_size(static_cast<std::uint32_t>(bs));
}

awaitable<void> filesystem_usage::read(v1::StatsSample& s) {
  if (mounts_.changed()) {
    std::error_code ec;
    auto text = mounts_.read(ec);
    if (ec) {
      mounts_cache_.clear();
      add_error(s, "cannot read " + mounts_.path(), ec);
      co_return;
    }
    auto all = procfs::parse_mounts(text);
    // Only storage; and where a mount point is mounted over, only the last
    // (visible) mount: statvfs of the path reports that one anyway.
    mounts_cache_.clear();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      if (procfs::is_pseudo_filesystem(it->fs_type)) continue;
      const bool seen = std::any_of(mounts_cache_.begin(), mounts_cache_.end(),
                                    [&](const auto& m) { return m.mount_point == it->mount_point; });
      if (!seen) mounts_cache_.push_back(std::move(*it));
    }
    std::reverse(mounts_cache_.begin(), mounts_cache_.end());
  }
  std::vector<procfs::mount_entry> mounts = mounts_cache_;
  if (mounts.size() > limits_.max_list_entries) {
    s.add_errors("filesystem list cut at " + std::to_string(limits_.max_list_entries) + " of " +
                 std::to_string(mounts.size()) + " mounts");
    mounts.resize(limits_.max_list_entries);
  }

  // Local filesystems now; the others on the worker.
  struct local_result {
    int err = 0;
    struct statvfs st {};
  };
  std::vector<local_result> local(mounts.size());
  std::vector<procfs::mount_entry> remote;
  for (std::size_t i = 0; i < mounts.size(); ++i) {
    if (statfs_is_local(mounts[i].fs_type)) {
      if (statvfs_fn_(mounts[i].mount_point.c_str(), &local[i].st) != 0) local[i].err = errno;
    } else {
      local[i].err = -1;  // pending on the worker
      remote.push_back(mounts[i]);
    }
  }
  std::shared_ptr<fs_job> job;
  if (!remote.empty()) job = co_await run_remote_statvfs(s, std::move(remote));

  for (std::size_t i = 0; i < mounts.size(); ++i) {
    const auto& m = mounts[i];
    if (local[i].err != -1) {
      add_filesystem(s, m, local[i].err, local[i].st);
      continue;
    }
    if (!job) continue;  // the worker did not answer in time (reported)
    // The job may be another caller's, started from an older mount list.
    const auto& w = *job->work;
    for (std::size_t j = 0; j < w.mounts.size(); ++j)
      if (w.mounts[j].mount_point == m.mount_point) {
        add_filesystem(s, m, w.results[j].err, w.results[j].st);
        break;
      }
  }
}

awaitable<std::shared_ptr<filesystem_usage::fs_job>> filesystem_usage::run_remote_statvfs(
    v1::StatsSample& s, std::vector<procfs::mount_entry> mounts) {
  // Coalesce with a job still running (another caller's, or one that hangs).
  auto job = fs_job_;
  if (!job || job->done) {
    job = std::make_shared<fs_job>(ex_);
    job->work->mounts = std::move(mounts);
    job->started = clock::now();
    std::weak_ptr<fs_job> weak = job;
    auto ex = ex_;
    const bool started = worker_.try_run(
        [work = job->work, statvfs_fn = statvfs_fn_] {
          work->results.resize(work->mounts.size());
          for (std::size_t i = 0; i < work->mounts.size(); ++i) {
            work->at.store(i);
            auto& r = work->results[i];
            if (statvfs_fn(work->mounts[i].mount_point.c_str(), &r.st) != 0) r.err = errno;
          }
        },
        [ex, weak] {
          asio::post(ex, [weak] {
            if (auto j = weak.lock()) {
              j->done = true;
              j->finished.cancel();
            }
          });
        });
    if (!started) {
      s.add_errors("network/FUSE filesystems left out: the statvfs worker is busy");
      co_return nullptr;
    }
    fs_job_ = job;
  }

  const auto deadline = job->started + limits_.statvfs_timeout;
  if (!job->done && clock::now() < deadline) {
    boost::system::error_code ec;  // the job's signal fires by cancellation
    co_await with_deadline(job->finished.async_wait(asio::redirect_error(use_awaitable, ec)), deadline);
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
      throw boost::system::system_error(asio::error::operation_aborted);
  }
  if (!job->done) {
    const auto& w = *job->work;
    const auto i = std::min(w.at.load(), w.mounts.size() - 1);  // mounts is never empty
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - job->started).count();
    s.add_errors("network/FUSE filesystems left out: statvfs(" + w.mounts[i].mount_point +
                 ") has not returned for " + std::to_string(ms) + " ms (unresponsive server or FUSE daemon?)");
    co_return nullptr;
  }
  co_return job;
}

}  // namespace tether::agent
