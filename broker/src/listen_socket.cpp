#include "listen_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>

#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "log.hpp"

namespace tether::broker {
namespace {

std::runtime_error os_error(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

sockaddr_un address_of(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// Someone accepts connections at `path` (another broker).
bool listened_on(const std::string& path) {
  unique_fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  const auto a = address_of(path);
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
}

}  // namespace

std::string guest_socket_path(const std::string& runtime_dir, const std::string& name) {
  if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos)
    throw std::invalid_argument("guest name '" + name + "' cannot name a socket (empty, leading '.' or '/')");
  std::string path = runtime_dir + "/" + name + ".sock";
  if (path.size() >= sizeof(sockaddr_un{}.sun_path))
    throw std::invalid_argument("socket path " + path + " is too long for a unix socket address (" +
                                std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes at most)");
  return path;
}

unique_fd listen_guest_socket(const socket_settings& s, const std::string& name) {
  const std::string path = guest_socket_path(s.runtime_dir, name);
  if (::mkdir(s.runtime_dir.c_str(), 0755) != 0 && errno != EEXIST) throw os_error("cannot create " + s.runtime_dir);
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(path + " exists and is not a socket; not replacing it");
    if (listened_on(path)) throw std::runtime_error(path + " is already served (another tetherd?)");
    ::unlink(path.c_str());
  }
  unique_fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) throw os_error("socket");
  const auto a = address_of(path);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) throw os_error("cannot bind " + path);
  if (::chmod(path.c_str(), s.mode) != 0 ||
      (s.group && ::chown(path.c_str(), static_cast<uid_t>(-1), *s.group) != 0)) {
    const auto e = os_error("cannot set the mode/group of " + path);
    ::unlink(path.c_str());
    throw e;
  }
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    const auto e = os_error("cannot listen on " + path);
    ::unlink(path.c_str());
    throw e;
  }
  return fd;
}

activated_sockets activated_sockets::from_environment() {
  activated_sockets out;
  char** names = nullptr;
  const int n = ::sd_listen_fds_with_names(1, &names);
  if (n < 0) {
    log::warning(std::string("cannot read the sockets systemd passed: ") + std::strerror(-n));
    return out;
  }
  for (int i = 0; i < n; ++i) {
    unique_fd fd(SD_LISTEN_FDS_START + i);
    const std::string name = names && names[i] ? names[i] : "";
    if (::sd_is_socket_unix(fd.get(), SOCK_STREAM, 1, nullptr, 0) <= 0) {
      log::warning("socket '" + name + "' from systemd is not a listening unix stream socket; ignored");
      continue;
    }
    // Asio wants it non-blocking and it must not leak into exec'd children.
    ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC);
    out.fds_[name] = std::move(fd);
  }
  if (names) {
    for (int i = 0; i < n; ++i) std::free(names[i]);
    std::free(names);
  }
  return out;
}

std::optional<unique_fd> activated_sockets::take(const std::string& name) {
  const auto it = fds_.find(name);
  if (it == fds_.end()) return std::nullopt;
  auto fd = std::move(it->second);
  fds_.erase(it);
  return fd;
}

std::vector<std::string> activated_sockets::names() const {
  std::vector<std::string> out;
  for (const auto& [name, fd] : fds_) out.push_back(name);
  return out;
}

}  // namespace tether::broker
