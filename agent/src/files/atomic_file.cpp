#include "files/atomic_file.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <system_error>


namespace tether::agent::files {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string random_suffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* digits = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  for (int i = 0; i < 12; ++i) s += digits[rng() % 36];
  return s;
}

}  // namespace

atomic_file::atomic_file(place where, std::string target) : where_(std::move(where)), target_(std::move(target)) {
  dir_ = split_path(target_).first;
  fd_.reset(::openat(directory(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
  if (fd_) return;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    throw_errno("cannot create a file in '" + dir_ + "'");
  // No O_TMPFILE here: a hidden named temporary, removed unless committed.
  // O_EXCL: never opens what a concurrent call put under that name.
  for (int attempt = 0; attempt < 16 && !fd_; ++attempt) {
    temp_name_ = ".tether-upload-" + random_suffix();
    fd_.reset(::openat(directory(), temp_name_.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
    if (!fd_ && errno != EEXIST) throw_errno("cannot create a file in '" + dir_ + "'");
  }
  if (!fd_) throw_errno("cannot create a temporary file in '" + dir_ + "'");
}

atomic_file::~atomic_file() {
  if (!committed_ && !temp_name_.empty()) ::unlinkat(directory(), temp_name_.c_str(), 0);
}

void atomic_file::reserve(std::uint64_t size) {
  if (size == 0) return;
  int rc;
  // SIGIO (virtio port notices) interrupts a long fallocate: retry.
  do rc = ::fallocate(fd_.get(), 0, 0, static_cast<off_t>(size));
  while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EOPNOTSUPP && errno != ENOSYS)
    throw_errno("cannot reserve " + std::to_string(size) + " bytes in '" + dir_ + "'");
}

void atomic_file::set_attributes(std::optional<std::uint32_t> mode, std::optional<std::uint32_t> uid,
                                 std::optional<std::uint32_t> gid, std::optional<std::int64_t> mtime_ns) {
  if (uid || gid) {
    if (::fchown(fd_.get(), uid ? static_cast<uid_t>(*uid) : static_cast<uid_t>(-1),
                 gid ? static_cast<gid_t>(*gid) : static_cast<gid_t>(-1)) != 0)
      throw_errno("cannot set the owner of '" + target_ + "'");
  }
  if (::fchmod(fd_.get(), mode ? (*mode & 07777) : 0644) != 0)
    throw_errno("cannot set the mode of '" + target_ + "'");
  if (mtime_ns) {
    timespec ts[2];
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = static_cast<time_t>(*mtime_ns / 1'000'000'000);
    ts[1].tv_nsec = static_cast<long>(*mtime_ns % 1'000'000'000);
    if (ts[1].tv_nsec < 0) {
      ts[1].tv_nsec += 1'000'000'000;
      ts[1].tv_sec -= 1;
    }
    if (::futimens(fd_.get(), ts) != 0) throw_errno("cannot set the mtime of '" + target_ + "'");
  }
}

void atomic_file::commit(bool overwrite) {
  const char* name = where_.name.c_str();
  if (temp_name_.empty()) {
    // The unnamed file's own /proc link, resolved by the kernel to this
    // descriptor; the new name goes into the directory's descriptor.
    const std::string self = "/proc/self/fd/" + std::to_string(fd_.get());
    if (!overwrite) {
      if (::linkat(AT_FDCWD, self.c_str(), directory(), name, AT_SYMLINK_FOLLOW) != 0)
        throw_errno("cannot create '" + target_ + "'");
    } else {
      // Link under a hidden name, then rename over the target: atomic replace.
      std::string hidden;
      for (int attempt = 0;; ++attempt) {
        hidden = ".tether-upload-" + random_suffix();
        if (::linkat(AT_FDCWD, self.c_str(), directory(), hidden.c_str(), AT_SYMLINK_FOLLOW) == 0) break;
        if (errno != EEXIST || attempt == 16) throw_errno("cannot create a file in '" + dir_ + "'");
      }
      if (::renameat(directory(), hidden.c_str(), directory(), name) != 0) {
        const int e = errno;
        ::unlinkat(directory(), hidden.c_str(), 0);
        errno = e;
        throw_errno("cannot replace '" + target_ + "'");
      }
    }
  } else {
    const unsigned flags = overwrite ? 0 : RENAME_NOREPLACE;
    if (::renameat2(directory(), temp_name_.c_str(), directory(), name, flags) != 0)
      throw_errno("cannot create '" + target_ + "'");
  }
  committed_ = true;
}

}  // namespace tether::agent::files
