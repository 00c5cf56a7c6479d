// Runs the tetherctl binary as a user would, for CLI tests.
#pragma once

#include <string>

namespace tether::test {

struct ctl_result {
  int status;       // exit status, -1 if tetherctl did not exit normally
  std::string out;  // stdout and stderr together
};

// `args` are shell words appended to the tetherctl path.
ctl_result run_tetherctl(const std::string& args);

}  // namespace tether::test
