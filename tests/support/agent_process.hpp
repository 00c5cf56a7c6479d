// Runs the real tether-agent binary for a test: listening on a unix socket in
// a fresh temp dir, ready when it sends READY=1 to our NOTIFY_SOCKET (the
// same readiness protocol systemd uses), so no test sleeps to wait for it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace tether::test {

class agent_process {
 public:
  // `capture_stderr`: the agent's stderr goes to a file (stderr_text())
  // instead of the test's own stderr.
  explicit agent_process(std::vector<std::string> extra_args = {},
                         std::chrono::milliseconds ready_within = std::chrono::seconds(10),
                         bool capture_stderr = false);
  ~agent_process();
  agent_process(const agent_process&) = delete;
  agent_process& operator=(const agent_process&) = delete;

  const std::string& socket_path() const { return socket_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  // What the agent wrote to stderr so far; empty unless captured.
  std::string stderr_text() const;
  // Sends a signal and waits for exit; returns the wait status.
  int stop(int sig, std::chrono::milliseconds within = std::chrono::seconds(10));

 private:
  std::string dir_, socket_, notify_, stderr_;
  int notify_fd_ = -1;
  pid_t pid_ = -1;
};

// A fresh directory under /tmp, removed by the destructor.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace tether::test
