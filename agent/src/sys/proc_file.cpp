#include "sys/proc_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "sys/procfs.hpp"

namespace tether::agent {
namespace {

// Files larger than this are not statistics files; refuse rather than grow.
constexpr std::size_t max_file_size = 64u << 20;

std::error_code errno_code(int e = errno) { return {e, std::generic_category()}; }

}  // namespace

proc_file::proc_file(std::string path, layout l, std::size_t initial_size)
    : path_(std::move(path)), layout_(l), buf_(std::max<std::size_t>(initial_size, 16)) {}

proc_file::~proc_file() { close_file(); }

bool proc_file::open_file(std::error_code& ec) {
  if (fd_ >= 0) return true;
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    ec = errno_code();
    return false;
  }
  return true;
}

void proc_file::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string_view proc_file::read(std::error_code& ec) {
  ec.clear();
  // A kept descriptor can go stale (sysfs object removed and re-created):
  // on a read error, reopen once and retry.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!open_file(ec)) return {};
    std::size_t len = 0;
    bool failed = false;
    for (;;) {
      if (len == buf_.size()) {
        if (buf_.size() >= max_file_size) {
          ec = std::make_error_code(std::errc::file_too_large);
          return {};
        }
        buf_.resize(buf_.size() * 2);
      }
      const std::size_t want = buf_.size() - len;
      ++syscalls_;
      const ssize_t n = ::pread(fd_, buf_.data() + len, want, static_cast<off_t>(len));
      if (n < 0) {
        if (errno == EINTR) continue;
        ec = errno_code();
        failed = true;
        break;
      }
      if (n == 0) break;
      len += static_cast<std::size_t>(n);
      if (layout_ == layout::single_record && static_cast<std::size_t>(n) < want) break;
    }
    if (!failed) return {buf_.data(), len};
    close_file();
  }
  return {};
}

bool proc_file::changed() {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLPRI, 0};
  ++syscalls_;
  const int r = ::poll(&p, 1, 0);
  return r != 0;  // an event, or an error: read again
}

std::string read_small_file(const std::string& path, std::error_code& ec) {
  ec.clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ec = errno_code();
    return {};
  }
  char buf[512];
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ec = errno_code();
  ::close(fd);
  if (n <= 0) return {};
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

pid_counter::pid_counter(std::string proc_root) : root_(std::move(proc_root)), buf_(32768) {}

pid_counter::~pid_counter() {
  if (fd_ >= 0) ::close(fd_);
}

long pid_counter::count(std::error_code& ec) {
  ec.clear();
  if (fd_ < 0) {
    fd_ = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
      ec = errno_code();
      return -1;
    }
  }
  if (::lseek(fd_, 0, SEEK_SET) < 0) {
    ec = errno_code();
    ::close(fd_);
    fd_ = -1;
    return -1;
  }
  long n = 0;
  for (;;) {
    const long got = ::syscall(SYS_getdents64, fd_, buf_.data(), buf_.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      ec = errno_code();
      return -1;
    }
    if (got == 0) break;
    // struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
    for (long off = 0; off < got;) {
      const char* rec = buf_.data() + off;
      std::uint16_t reclen;
      std::memcpy(&reclen, rec + 16, sizeof reclen);
      if (reclen == 0) break;
      const char* name = rec + 19;
      if (procfs::is_pid_name(name)) ++n;
      off += reclen;
    }
  }
  return n;
}

}  // namespace tether::agent
