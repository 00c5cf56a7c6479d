// The destination of an upload: written as a temporary file in the target
// directory and linked into place only when complete, so an interrupted
// upload (cancel, lost host, disk full, hash mismatch, agent killed) never
// leaves a partial file at the destination.
//
// O_TMPFILE makes the temporary file unnamed: if the agent dies, the kernel
// frees it. Filesystems without O_TMPFILE get a hidden named temporary that
// the destructor removes. Everything happens through the directory's
// descriptor and single names in it (files/path_policy.hpp's place), so a
// path swapped meanwhile cannot redirect the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "files/path_policy.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent::files {

class atomic_file {
 public:
  // `target` (the request's path) names the file in messages. Throws
  // std::system_error (e.g. EACCES for a read-only directory).
  atomic_file(place where, std::string target);
  ~atomic_file();
  atomic_file(const atomic_file&) = delete;
  atomic_file& operator=(const atomic_file&) = delete;

  int fd() const noexcept { return fd_.get(); }
  // The target directory's descriptor (O_PATH).
  int directory() const noexcept { return where_.dir.get(); }

  // Reserves space early, so a full disk fails before any byte moves.
  void reserve(std::uint64_t size);
  // Owner first: chown clears set-id bits that mode may set.
  void set_attributes(std::optional<std::uint32_t> mode, std::optional<std::uint32_t> uid,
                      std::optional<std::uint32_t> gid, std::optional<std::int64_t> mtime_ns);
  // Links the (already fsynced) file at the target. Without overwrite an
  // existing target fails with EEXIST, atomically.
  void commit(bool overwrite);

 private:
  place where_;
  std::string target_, dir_, temp_name_;  // temp_name_ empty with O_TMPFILE
  unique_fd fd_;
  bool committed_ = false;
};

}  // namespace tether::agent::files
