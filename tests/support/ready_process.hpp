// Starting a child that says it is ready as a systemd service does: READY=1
// on the NOTIFY_SOCKET we give it. The real agent (agent_process) and the
// real broker (tetherd_process) start this way, so no test sleeps to wait
// for them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace tether::test {

struct ready_spawn {
  std::vector<std::string> argv;
  std::string notify_path;  // the child's NOTIFY_SOCKET
  std::chrono::milliseconds ready_within{10'000};
  std::string stderr_file;             // empty: the test's own stderr
  std::vector<std::string> extra_env;  // "K=V"
  std::vector<int> pass_fds;           // ours, given to it as 3, 4, ... (sockets "from systemd")
};

// Binds the notify socket (a datagram socket at `path`); the caller closes it.
int bind_notify_socket(const std::string& path);
// Spawns the child and waits for its READY=1 on `notify_fd`; its pid. A
// child not ready in time is killed, and the error thrown.
pid_t spawn_ready(const ready_spawn& s, int notify_fd);
// Sends `sig`, waits up to `within` for the exit (then SIGKILL); the wait
// status. `pid` is set to -1.
int stop_process(pid_t& pid, int sig, std::chrono::milliseconds within = std::chrono::seconds(10));

}  // namespace tether::test
