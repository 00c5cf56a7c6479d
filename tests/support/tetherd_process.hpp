// Runs the real tetherd binary for a test: its guests' sockets in a runtime
// directory of the test's, its log captured, ready when it sends READY=1.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace tether::test {

class tetherd_process {
 public:
  // `args`: --guest NAME=SOCKET and any other options; --runtime-dir and
  // --no-guests-dir are added (tests never read the host's guests.d).
  // `activated`: listening sockets passed as systemd does (LISTEN_FDS,
  // LISTEN_PID, LISTEN_FDNAMES), by name.
  tetherd_process(std::string runtime_dir, std::vector<std::string> args,
                  std::vector<std::pair<std::string, int>> activated = {});
  ~tetherd_process();
  tetherd_process(const tetherd_process&) = delete;
  tetherd_process& operator=(const tetherd_process&) = delete;

  // Where it serves guest `name` (exists while the guest's socket does).
  std::string socket(const std::string& name) const { return runtime_dir_ + "/" + name + ".sock"; }
  const std::string& runtime_dir() const { return runtime_dir_; }
  // Its log so far.
  std::string log_text() const;
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the exit; the wait status.
  int stop(int sig);

 private:
  std::string dir_, runtime_dir_, log_;
  int notify_fd_ = -1;
  pid_t pid_ = -1;
};

}  // namespace tether::test
