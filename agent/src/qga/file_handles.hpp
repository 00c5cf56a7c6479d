// Files opened by guest-file-open, by handle, until guest-file-close (or
// the agent ends): they outlive a host connection, as in qemu-ga. Paths go
// through the files service's policy (files::path_policy, [files] roots).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "files/path_policy.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent::qga {

class file_handles {
 public:
  static constexpr std::size_t max_open = 1024;
  // guest-file-read's largest count, qemu-ga's (48 MiB, 64 MiB as base64).
  static constexpr std::int64_t max_read = 48 << 20;

  explicit file_handles(std::vector<std::string> roots) : policy_(std::move(roots)) {}

  // qemu-ga's fopen() modes: r, w, a, each with "+" and/or "b".
  std::int64_t open(const std::string& path, const std::string& mode);
  void close(std::int64_t handle);
  int fd(std::int64_t handle) const;  // throws "handle 'N' has not been found"
  // The files service's policy (guest-ssh-get-authorized-keys reads through it).
  const files::path_policy& policy() const { return policy_; }

 private:
  files::path_policy policy_;
  std::map<std::int64_t, unique_fd> open_;
  std::int64_t next_ = 1000;  // qemu-ga's first handle
};

}  // namespace tether::agent::qga
