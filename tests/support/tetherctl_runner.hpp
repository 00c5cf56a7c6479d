// Runs the tetherctl binary as a user would, for CLI tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "support/agent_process.hpp"

namespace tether::test {

struct ctl_result {
  int status;       // exit status, -1 if tetherctl did not exit normally
  std::string out;  // stdout and stderr together
};

// `args` are shell words appended to the tetherctl path.
ctl_result run_tetherctl(const std::string& args);

// A fixture with an agent for tetherctl to talk to; sock() starts the
// arguments that reach it.
class tetherctl_test : public ::testing::Test {
 protected:
  explicit tetherctl_test(std::vector<std::string> agent_args = {}) : agent(std::move(agent_args)) {}
  agent_process agent;
  std::string sock() const { return "--socket " + agent.socket_path() + " "; }
};

}  // namespace tether::test
