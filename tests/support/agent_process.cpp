#include "support/agent_process.hpp"

#include "support/build_paths.hpp"
#include "support/slurp.hpp"

#include "support/ready_process.hpp"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace tether::test {

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/tether-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

agent_process::agent_process(std::vector<std::string> extra_args, std::chrono::milliseconds ready_within,
                             bool capture_stderr) {
  char tmpl[] = "/tmp/tether-agent-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  socket_ = dir_ + "/agent.sock";
  notify_ = dir_ + "/notify";
  notify_fd_ = bind_notify_socket(notify_);
  if (capture_stderr) stderr_ = dir_ + "/stderr";

  std::vector<std::string> args = {agent_binary, "--listen-unix", socket_, "--log-level", "warning"};
  // Tests never read this machine's /etc/tether/agent.conf.
  if (std::find(extra_args.begin(), extra_args.end(), "--config") == extra_args.end())
    args.insert(args.end(), {"--config", "/dev/null"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = spawn_ready({.argv = std::move(args), .notify_path = notify_, .ready_within = ready_within,
                      .stderr_file = stderr_},
                     notify_fd_);
}

std::string agent_process::stderr_text() const { return stderr_.empty() ? "" : slurp(stderr_); }

int agent_process::stop(int sig, std::chrono::milliseconds within) { return stop_process(pid_, sig, within); }

agent_process::~agent_process() {
  stop(SIGTERM);
  if (notify_fd_ >= 0) ::close(notify_fd_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace tether::test
