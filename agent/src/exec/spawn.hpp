// Starting a child process: everything that must happen between fork and
// exec. The parent prepares all memory (argv, envp, groups) before fork, so
// the child only makes system calls: the agent has helper threads, and a
// forked child may not allocate.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "tether/common/unique_fd.hpp"

namespace tether::agent::exec {

struct credentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
};

struct spawn_spec {
  std::string path;               // absolute or relative executable path (no PATH search)
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // "K=V"
  std::string cwd;                // empty: stay in the agent's cwd
  std::optional<credentials> creds;
  bool stdin_pipe = false;        // else /dev/null (ignored with tty)
  bool merge_stderr = false;      // stderr into the stdout pipe
  bool tty = false;
  unsigned short tty_rows = 24, tty_cols = 80;
  bool die_with_agent = true;     // PR_SET_PDEATHSIG(SIGKILL)
};

// The parent's side of a started child. With tty, `in` and `out` are both
// the terminal's master side (two descriptors) and `err` is empty.
struct spawned {
  pid_t pid = -1;
  unique_fd pidfd;
  unique_fd in, out, err;
};

enum spawn_step : int {
  step_setsid = 1, step_tty, step_stdio, step_groups, step_gid, step_uid, step_chdir, step_exec,
};
const char* describe(spawn_step s);

// A step between fork and exec failed in the child (already reaped).
// what(): "cannot <step>: <strerror>".
class spawn_error : public std::system_error {
 public:
  spawn_error(spawn_step step, int err);
  spawn_step step() const { return step_; }

 private:
  spawn_step step_;
};

// Forks and starts the child. Returns once the child has exec'd; throws
// spawn_error when it failed before that, std::system_error when the
// parent-side preparation (pipes, pty, fork) fails. The returned
// descriptors are close-on-exec and blocking (Asio makes them non-blocking
// on first use).
spawned spawn(const spawn_spec& spec);

}  // namespace tether::agent::exec
