// Freezing the guest's filesystems for a consistent snapshot (FIFREEZE /
// FITHAW), as qemu-ga 7.2 does it: every mounted filesystem whose source is
// a device path, in reverse mount order (or only the listed mountpoints);
// filesystems that cannot freeze (EOPNOTSUPP) or already are (EBUSY) are
// skipped; any other failure thaws what was frozen. The hook (qemu-ga's -F)
// runs with "freeze" before and "thaw" after.
//
// Better than qemu-ga: a freeze never outlives its guard. When no thaw
// comes within the limit, or no host has been connected for the host-gone
// limit, the agent thaws by itself (qemu-ga leaves the guest frozen, its
// writes hanging, until someone thaws it).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tether/common/asio.hpp"

namespace tether::agent::qga {

class freezer {
 public:
  freezer(const asio::any_io_executor& ex, std::string hook, std::chrono::milliseconds limit,
          std::chrono::milliseconds host_gone_limit);
  ~freezer();

  bool frozen() const { return frozen_; }
  std::chrono::milliseconds limit() const { return limit_; }
  // Returns how many filesystems were frozen. Throws qga_error.
  awaitable<std::int64_t> freeze(const std::optional<std::vector<std::string>>& mountpoints);
  // Returns how many filesystems were thawed (0 when none was frozen).
  awaitable<std::int64_t> thaw();
  // Agent shutdown: thaws at once (without the hook).
  void stop();
  // No host is connected any more / one is again: a freeze left by a host
  // that went away ends after the host-gone limit.
  void host_gone();
  void host_back();

 private:
  std::int64_t thaw_all();
  awaitable<void> run_hook(const char* what);
  // Thaws (with the hook) after `after` unless cancelled, saying `why`.
  std::unique_ptr<asio::steady_timer> thaw_after(std::chrono::milliseconds after, std::string why);

  asio::any_io_executor ex_;
  std::string hook_;
  std::chrono::milliseconds limit_, host_gone_limit_;
  bool frozen_ = false;
  std::unique_ptr<asio::steady_timer> guard_, host_gone_guard_;
};

// The filesystems freeze() considers, in mount order: mountpoints of
// entries whose source is a path ("/dev/vda1"), from /proc/self/mounts text.
std::vector<std::string> freezable_mounts(std::string_view mounts_text);
// The same, of this guest now (guest-fstrim trims these too).
std::vector<std::string> device_mounts();

}  // namespace tether::agent::qga
