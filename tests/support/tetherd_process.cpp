#include "support/tetherd_process.hpp"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "support/build_paths.hpp"
#include "support/ready_process.hpp"
#include "support/slurp.hpp"

namespace tether::test {

tetherd_process::tetherd_process(std::string runtime_dir, std::vector<std::string> args,
                                 std::vector<std::pair<std::string, int>> activated)
    : runtime_dir_(std::move(runtime_dir)) {
  char tmpl[] = "/tmp/tetherd-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  log_ = dir_ + "/log";
  ready_spawn s{.argv = {tetherd_binary, "--runtime-dir", runtime_dir_, "--no-guests-dir", "--log-level", "debug"},
                .notify_path = dir_ + "/notify",
                .stderr_file = log_};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  if (!activated.empty()) {
    // LISTEN_PID must be tetherd's own: a shell sets it to its pid, then
    // becomes tetherd (exec keeps the pid).
    s.argv.insert(s.argv.begin(), {"/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""});
    std::string names;
    for (const auto& [name, fd] : activated) {
      names += (names.empty() ? "" : ":") + name;
      s.pass_fds.push_back(fd);
    }
    s.extra_env = {"LISTEN_FDS=" + std::to_string(s.pass_fds.size()), "LISTEN_FDNAMES=" + names};
  }
  notify_fd_ = bind_notify_socket(s.notify_path);
  pid_ = spawn_ready(s, notify_fd_);
}

tetherd_process::~tetherd_process() {
  stop(SIGTERM);
  if (notify_fd_ >= 0) ::close(notify_fd_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string tetherd_process::log_text() const { return slurp(log_); }

int tetherd_process::stop(int sig) { return stop_process(pid_, sig); }

}  // namespace tether::test
