#include "qga/file_handles.hpp"

#include <fcntl.h>

#include <optional>

#include "qga/protocol.hpp"

namespace tether::agent::qga {
namespace {

std::optional<int> open_flags(const std::string& mode) {
  std::string m = mode;
  std::erase(m, 'b');  // binary: no meaning here
  if (mode.size() - m.size() > 1) return std::nullopt;
  if (m == "r") return O_RDONLY;
  if (m == "w") return O_WRONLY | O_CREAT | O_TRUNC;
  if (m == "a") return O_WRONLY | O_CREAT | O_APPEND;
  if (m == "r+") return O_RDWR;
  if (m == "w+") return O_RDWR | O_CREAT | O_TRUNC;
  if (m == "a+") return O_RDWR | O_CREAT | O_APPEND;
  return std::nullopt;
}

}  // namespace

std::int64_t file_handles::open(const std::string& path, const std::string& mode) {
  const auto flags = open_flags(mode);
  if (!flags) throw qga_error("invalid file open mode '" + mode + "'");
  if (open_.size() >= max_open)
    throw qga_error("too many open files (" + std::to_string(max_open) + "); close some with guest-file-close");
  // Non-blocking, as qemu-ga sets it: a read of an empty pipe must not
  // stop the agent. Created files get 0666 less the umask, as with fopen().
  auto fd = policy_.open(path, *flags | O_NONBLOCK | O_NOCTTY,
                         "failed to open file '" + path + "' (mode: '" + mode + "')", 0666);
  const auto h = next_++;
  open_.emplace(h, std::move(fd));
  return h;
}

void file_handles::close(std::int64_t handle) {
  if (open_.erase(handle) == 0) throw qga_error("handle '" + std::to_string(handle) + "' has not been found");
}

int file_handles::fd(std::int64_t handle) const {
  auto it = open_.find(handle);
  if (it == open_.end()) throw qga_error("handle '" + std::to_string(handle) + "' has not been found");
  return it->second.get();
}

}  // namespace tether::agent::qga
