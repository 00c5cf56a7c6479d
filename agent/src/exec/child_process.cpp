#include "exec/child_process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cstring>

#include "log.hpp"
#include "tether/common/race.hpp"

namespace tether::agent::exec {

std::shared_ptr<child_process> child_process::adopt(const asio::any_io_executor& ex, pid_t pid,
                                                    unique_fd pidfd,
                                                    std::chrono::steady_clock::time_point started) {
  std::shared_ptr<child_process> p(new child_process(ex, pid, std::move(pidfd), started));
  // The reaper holds the object alive until the process is gone.
  asio::co_spawn(ex, [p]() -> awaitable<void> { co_await p->reap(); }, asio::detached);
  return p;
}

child_process::child_process(const asio::any_io_executor& ex, pid_t pid, unique_fd pidfd,
                             std::chrono::steady_clock::time_point started)
    : pid_(pid), pidfd_(ex, pidfd.release()), started_(started), exit_event_(ex) {}

child_process::~child_process() = default;

awaitable<void> child_process::reap() {
  for (;;) {
    // A pidfd turns readable when the process exits. Its wait is not tied
    // to any call, so it cannot be cancelled by one; it ends with the
    // process (or the agent).
    boost::system::error_code ec;
    co_await pidfd_.async_wait(asio::posix::stream_descriptor::wait_read,
                               asio::redirect_error(use_awaitable, ec));
    if (ec == asio::error::operation_aborted) co_return;
    int wstatus = 0;
    rusage ru{};
    const pid_t r = ::wait4(pid_, &wstatus, WNOHANG, &ru);
    if (r == 0) continue;  // spurious wake-up
    if (r < 0) {
      log::error("cannot reap child {}: {}", pid_, std::strerror(errno));
      status_.code = -1;
    } else if (WIFEXITED(wstatus)) {
      status_.code = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
      status_.signal = WTERMSIG(wstatus);
      status_.core_dumped = WCOREDUMP(wstatus);
    }
    status_.usage = ru;
    status_.run_time = std::chrono::steady_clock::now() - started_;
    exited_ = true;
    exit_event_.notify_all();
    co_return;
  }
}

awaitable<void> child_process::wait_exit() {
  while (!exited_ && !abandoned_) co_await exit_event_.wait();
}

bool child_process::signal(int sig, bool group) {
  if (group) return ::kill(-pid_, sig) == 0;
  if (exited_) return false;  // the pid may belong to someone else by now
  return ::kill(pid_, sig) == 0;
}

void child_process::abandon() {
  abandoned_ = true;
  boost::system::error_code ignored;
  pidfd_.cancel(ignored);
  exit_event_.notify_all();
}

bool child_process::group_alive() const { return ::kill(-pid_, 0) == 0; }

void child_process::terminate(std::chrono::milliseconds grace) {
  if (!signal(SIGTERM, true)) return;
  signal(SIGCONT, true);  // a stopped process would never see the SIGTERM
  auto self = shared_from_this();
  asio::co_spawn(
      pidfd_.get_executor(),
      [self, grace]() -> awaitable<void> {
        // Until the grace ends or the process exits: then what is left of
        // the group is killed at once (it would not end the call anyway).
        co_await with_timeout(self->wait_exit(), grace);
        if (self->group_alive()) {
          log::info("process group {} still alive {} ms after SIGTERM; sending SIGKILL",
                    self->pid_, grace.count());
          self->signal(SIGKILL, true);
        }
      },
      asio::detached);
}

}  // namespace tether::agent::exec
