#include "support/ready_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string_view>

extern char** environ;

namespace tether::test {

int bind_notify_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("bind notify socket: " + std::string(std::strerror(errno)));
  return fd;
}

pid_t spawn_ready(const ready_spawn& s, int notify_fd) {
  std::vector<std::string> args = s.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) env_store.emplace_back(*e);
  env_store.push_back("NOTIFY_SOCKET=" + s.notify_path);
  env_store.insert(env_store.end(), s.extra_env.begin(), s.extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  if (!s.stderr_file.empty())
    ::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, s.stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                       0600);
  for (std::size_t i = 0; i < s.pass_fds.size(); ++i)
    ::posix_spawn_file_actions_adddup2(&actions, s.pass_fds[i], 3 + static_cast<int>(i));  // dup2 clears CLOEXEC
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));

  const auto deadline = std::chrono::steady_clock::now() + s.ready_within;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      stop_process(pid, SIGKILL);
      throw std::runtime_error(args[0] + " did not report READY=1 in time");
    }
    pollfd p{notify_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[512];
    const ssize_t n = ::recv(notify_fd, buf, sizeof buf - 1, 0);
    if (n > 0 && std::string_view(buf, static_cast<std::size_t>(n)).find("READY=1") != std::string_view::npos)
      return pid;
  }
}

int stop_process(pid_t& pid, int sig, std::chrono::milliseconds within) {
  if (pid <= 0) return 0;
  ::kill(pid, sig);
  int status = 0;
  // A pidfd becomes readable when the process exits: wait on it with a deadline.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd p{pidfd, POLLIN, 0};
  if (pidfd < 0 || ::poll(&p, 1, static_cast<int>(within.count())) <= 0) ::kill(pid, SIGKILL);
  if (pidfd >= 0) ::close(pidfd);
  ::waitpid(pid, &status, 0);
  pid = -1;
  return status;
}

}  // namespace tether::test
