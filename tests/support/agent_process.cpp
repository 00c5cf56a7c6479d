#include "support/agent_process.hpp"

#include "support/build_paths.hpp"
#include "support/slurp.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern char** environ;

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

  notify_fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, notify_.c_str(), sizeof addr.sun_path - 1);
  if (::bind(notify_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("bind notify socket: " + std::string(std::strerror(errno)));

  std::vector<std::string> args = {agent_binary, "--listen-unix", socket_, "--log-level", "warning"};
  // Tests never read this machine's /etc/tether/agent.conf.
  if (std::find(extra_args.begin(), extra_args.end(), "--config") == extra_args.end())
    args.insert(args.end(), {"--config", "/dev/null"});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) env_store.emplace_back(*e);
  env_store.push_back("NOTIFY_SOCKET=" + notify_);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  if (capture_stderr) {
    stderr_ = dir_ + "/stderr";
    ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  }
  const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error(std::string("cannot start tether-agent: ") + std::strerror(rc));

  const auto deadline = std::chrono::steady_clock::now() + ready_within;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      stop(SIGKILL);
      throw std::runtime_error("tether-agent did not report READY=1 in time");
    }
    pollfd p{notify_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[512];
    const ssize_t n = ::recv(notify_fd_, buf, sizeof buf - 1, 0);
    if (n > 0 && std::string_view(buf, static_cast<std::size_t>(n)).find("READY=1") != std::string_view::npos)
      break;
  }
}

std::string agent_process::stderr_text() const { return stderr_.empty() ? "" : slurp(stderr_); }

int agent_process::stop(int sig, std::chrono::milliseconds within) {
  if (pid_ <= 0) return 0;
  ::kill(pid_, sig);
  int status = 0;
  // A pidfd becomes readable when the process exits: wait on it with a deadline.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  pollfd p{pidfd, POLLIN, 0};
  if (pidfd < 0 || ::poll(&p, 1, static_cast<int>(within.count())) <= 0) ::kill(pid_, SIGKILL);
  if (pidfd >= 0) ::close(pidfd);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

agent_process::~agent_process() {
  stop(SIGTERM);
  if (notify_fd_ >= 0) ::close(notify_fd_);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace tether::test
