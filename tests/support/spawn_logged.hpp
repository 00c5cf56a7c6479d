// A child process left running (to run many at once, or to kill one), its
// stdout and stderr to a file: tetherctl clients of the broker tests.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace tether::test {

pid_t spawn_logged(std::vector<std::string> argv, const std::string& out_file);
// Waits for a child of ours; its exit status, -1 if it did not exit normally.
int wait_exit(pid_t pid);

}  // namespace tether::test
