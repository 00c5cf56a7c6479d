#include "support/qemu_ga_process.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tether::test {

qemu_ga_process::qemu_ga_process(const std::string& dir) : socket_(dir + "/qemu-ga.sock") {
  if (::access(qemu_ga_binary, X_OK) != 0)
    throw std::runtime_error(std::string(qemu_ga_binary) +
                             " is missing: install the package qemu-guest-agent (scripts/install-deps.sh)");
  const std::string pidfile = dir + "/qemu-ga.pid";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
    ::execl(qemu_ga_binary, qemu_ga_binary, "-m", "unix-listen", "-p", socket_.c_str(), "-t", dir.c_str(), "-f",
            pidfile.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

qemu_ga_process::~qemu_ga_process() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace tether::test
