// A started child: its exit is watched through a pidfd, and it is always
// reaped, by a coroutine that lives as long as the process does (not as long
// as the call that started it), so a cancelled call leaves no zombie.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <memory>

#include "tether/common/asio.hpp"
#include "tether/common/async_event.hpp"
#include "tether/common/unique_fd.hpp"

namespace tether::agent::exec {

struct exit_status {
  int code = -1;    // exit code, or -1 when killed by a signal
  int signal = 0;   // terminating signal, or 0
  bool core_dumped = false;
  rusage usage{};
  std::chrono::steady_clock::duration run_time{};
};

class child_process : public std::enable_shared_from_this<child_process> {
 public:
  // Takes over a started child (its pid is also its process group id).
  static std::shared_ptr<child_process> adopt(const asio::any_io_executor& ex, pid_t pid,
                                              unique_fd pidfd,
                                              std::chrono::steady_clock::time_point started);
  ~child_process();

  pid_t pid() const noexcept { return pid_; }
  bool exited() const noexcept { return exited_; }
  const exit_status& status() const noexcept { return status_; }
  // Returns once the process has exited and was reaped (or was abandoned).
  awaitable<void> wait_exit();

  // Sends `sig` to the process, or to its whole group. False if nothing got it.
  bool signal(int sig, bool group);
  // Whether any process of the group is still alive.
  bool group_alive() const;
  // SIGTERM to the group now and SIGKILL to what is left after `grace`; runs
  // on its own, so the caller need not wait.
  void terminate(std::chrono::milliseconds grace);
  // Stops watching (agent shutdown): the process goes on without the agent.
  void abandon();

 private:
  child_process(const asio::any_io_executor& ex, pid_t pid, unique_fd pidfd,
                std::chrono::steady_clock::time_point started);
  awaitable<void> reap();

  pid_t pid_;
  asio::posix::stream_descriptor pidfd_;
  std::chrono::steady_clock::time_point started_;
  bool exited_ = false;
  bool abandoned_ = false;
  exit_status status_;
  async_event exit_event_;
};

}  // namespace tether::agent::exec
