// Host-halt hooks: the executables in /etc/tether/host-halt.d/ that a guest
// runs before it powers off because its host is going down (stop a database
// cleanly, tell a cluster, flush a cache). Like run-parts: regular files
// with an execute bit, in byte order of their names; backup and package
// manager leftovers ("name~", ".dpkg-old", ...) and hidden files are skipped.
// Each hook runs in its own process group with stdin from /dev/null and
// stdout+stderr logged line by line through the agent's log (the journal
// under systemd), with a time limit. What a hook leaves running in its
// process group is ended when it exits (the guest powers off next anyway).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tether/common/asio.hpp"

namespace tether::agent::power {

struct hook_list {
  std::vector<std::string> run;      // file names, in run order
  std::vector<std::string> skipped;  // "name: reason"
};

// Lists the hooks of `dir`. A missing directory has none; an unreadable one
// throws std::system_error.
hook_list find_hooks(const std::string& dir);

struct hook_result {
  int exit_code = -1;  // -1: killed or not started
  int signal = 0;
  bool timed_out = false;
  std::chrono::milliseconds run_time{0};
  std::string error;  // set when the hook could not be started
};

struct hook_options {
  std::chrono::milliseconds time_limit{30'000};
  // After the time limit: SIGTERM to the hook's group, SIGKILL this much later.
  std::chrono::milliseconds kill_grace{2'000};
  // Longest logged line; longer output is split.
  std::size_t max_line = 2'000;
  // Extra environment ("K=V") on top of the agent's.
  std::vector<std::string> env;
  // Arguments after the program's name (QGA's fsfreeze hook: "freeze").
  std::vector<std::string> args;
  // What the log calls the program: "host-halt hook NAME: LINE".
  std::string label = "host-halt hook";
};

// Runs `dir`/`name` to its end (or its time limit) and returns how it ended.
// Output lines are logged as "LABEL NAME: LINE". Cancelling the coroutine
// kills the hook's process group. (QGA runs its helpers, the fsfreeze hook
// and hwclock, the same way.)
awaitable<hook_result> run_hook(const std::string& dir, const std::string& name, const hook_options& opts);

}  // namespace tether::agent::power
