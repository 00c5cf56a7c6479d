// The real qemu-ga (Debian's qemu-guest-agent) as a child process on a unix
// socket (`-m unix-listen`), for tests that compare tether's QGA replies
// with the reference agent's. Killed by the destructor. qga_client waits
// for its socket.
#pragma once

#include <sys/types.h>

#include <string>

namespace tether::test {

inline constexpr const char* qemu_ga_binary = "/usr/sbin/qemu-ga";

class qemu_ga_process {
 public:
  // Listens on DIR/qemu-ga.sock, keeps its state in DIR.
  explicit qemu_ga_process(const std::string& dir);
  ~qemu_ga_process();
  qemu_ga_process(const qemu_ga_process&) = delete;
  qemu_ga_process& operator=(const qemu_ga_process&) = delete;

  const std::string& socket_path() const { return socket_; }

 private:
  std::string socket_;
  pid_t pid_ = -1;
};

}  // namespace tether::test
