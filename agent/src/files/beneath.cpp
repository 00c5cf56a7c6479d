#include "files/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace tether::agent::files {

unique_fd open_beneath(int dir, const char* relative, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a rename somewhere on the machine raced the lookup and the
  // kernel could not prove the result stayed beneath `dir`. Rare; a
  // relentless renamer gets a clear error instead of a spinning agent.
  for (int attempt = 0; attempt < 64; ++attempt) {
    const long fd = ::syscall(SYS_openat2, dir, relative, &how, sizeof how);
    if (fd >= 0) return unique_fd(static_cast<int>(fd));
    if (errno != EAGAIN && errno != EINTR) break;
  }
  return unique_fd();
}

}  // namespace tether::agent::files
