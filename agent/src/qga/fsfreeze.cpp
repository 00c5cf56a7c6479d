#include "qga/fsfreeze.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "log.hpp"
#include "qga/protocol.hpp"
#include "qga/run_helper.hpp"
#include "qga/sys_text.hpp"
#include "sys/procfs.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent::qga {

std::vector<std::string> freezable_mounts(std::string_view mounts_text) {
  std::vector<std::string> out;
  for (const auto& m : procfs::parse_mounts(mounts_text))
    if (!m.device.empty() && m.device[0] == '/' && m.fs_type != "smbfs" && m.fs_type != "cifs")
      out.push_back(m.mount_point);
  return out;
}

std::vector<std::string> device_mounts() { return freezable_mounts(read_text("/proc/self/mounts")); }

freezer::freezer(const asio::any_io_executor& ex, std::string hook, std::chrono::milliseconds limit,
                 std::chrono::milliseconds host_gone_limit)
    : ex_(ex), hook_(std::move(hook)), limit_(limit), host_gone_limit_(host_gone_limit) {}

std::unique_ptr<asio::steady_timer> freezer::thaw_after(std::chrono::milliseconds after, std::string why) {
  auto t = std::make_unique<asio::steady_timer>(ex_, after);
  t->async_wait([this, why = std::move(why)](const boost::system::error_code& ec) {
    if (ec || !frozen_) return;
    log::warning("qga: {}: thawing now", why);
    asio::co_spawn(ex_, thaw(), [](std::exception_ptr e, std::int64_t) {
      if (!e) return;
      try { std::rethrow_exception(e); } catch (const std::exception& x) {
        log::error("qga: automatic thaw: {}", x.what());
      }
    });
  });
  return t;
}

void freezer::host_gone() {
  if (frozen_)
    host_gone_guard_ = thaw_after(host_gone_limit_, "no host connected for " +
                                                        std::to_string(host_gone_limit_.count()) + " ms while frozen");
}

void freezer::host_back() {
  if (host_gone_guard_) host_gone_guard_->cancel();
}

freezer::~freezer() {
  if (frozen_) thaw_all();
}

awaitable<void> freezer::run_hook(const char* what) {
  struct stat st{};
  if (hook_.empty() || ::stat(hook_.c_str(), &st) != 0) co_return;  // no hook installed
  std::vector<std::string> args;
  args.emplace_back(what);  // (not a braced list: GCC 12 coroutine bug)
  const auto r = co_await run_helper(hook_, std::move(args));
  if (!r.ok()) throw qga_error("fsfreeze hook has failed: " + r.error);
}

awaitable<std::int64_t> freezer::freeze(const std::optional<std::vector<std::string>>& mountpoints) {
  co_await run_hook("freeze");
  auto mounts = device_mounts();
  frozen_ = true;  // from here on only the frozen-state commands run
  std::int64_t count = 0;
  for (auto it = mounts.rbegin(); it != mounts.rend(); ++it) {
    if (mountpoints && std::find(mountpoints->begin(), mountpoints->end(), *it) == mountpoints->end()) continue;
    unique_fd fd(::open(it->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      const int err = errno;
      thaw_all();
      throw qga_error("failed to open " + *it + ": " + std::strerror(err));
    }
    if (::ioctl(fd.get(), FIFREEZE) != 0) {
      // Cannot freeze (tmpfs, ...) or frozen already (bind mounts): skip.
      if (errno == EOPNOTSUPP || errno == EBUSY) continue;
      const int err = errno;
      thaw_all();
      throw qga_error("failed to freeze " + *it + ": " + std::strerror(err));
    }
    ++count;
  }
  if (count == 0) {
    // qemu-ga stays "frozen" with nothing frozen; so do we, with the guard.
    log::info("qga: fsfreeze found no filesystem to freeze");
  }
  log::notice("qga: {} filesystem(s) frozen; thawed automatically after {} ms", count, limit_.count());
  guard_ = thaw_after(limit_, "no thaw within " + std::to_string(limit_.count()) + " ms of the freeze");
  co_return count;
}

std::int64_t freezer::thaw_all() {
  std::int64_t count = 0;
  for (const auto& m : device_mounts()) {
    unique_fd fd(::open(m.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) continue;
    if (::ioctl(fd.get(), FITHAW) == 0) ++count;  // EINVAL: was not frozen
  }
  frozen_ = false;
  if (guard_) guard_->cancel();
  if (host_gone_guard_) host_gone_guard_->cancel();
  return count;
}

awaitable<std::int64_t> freezer::thaw() {
  const auto count = thaw_all();
  if (count) log::notice("qga: {} filesystem(s) thawed", count);
  co_await run_hook("thaw");
  co_return count;
}

void freezer::stop() {
  if (frozen_) log::notice("qga: agent stops while frozen: {} filesystem(s) thawed", thaw_all());
}

}  // namespace tether::agent::qga
