// tetherctl as a user runs it: output, --json, exit statuses.
#include <gtest/gtest.h>

#include "support/build_paths.hpp"
#include "support/tetherctl_runner.hpp"

#include <cstdio>
#include <sys/wait.h>

#include "support/agent_process.hpp"

namespace tether {
namespace {

using Tetherctl = test::tetherctl_test;

TEST_F(Tetherctl, PingPrintsMinMedianMax) {
  auto r = test::run_tetherctl(sock() + "ping --count 5");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("5 ping(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("median"), std::string::npos);
}

TEST_F(Tetherctl, PingJsonIsOneObject) {
  auto r = test::run_tetherctl("--json " + sock() + "ping --count 3");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_NE(r.out.find("\"median_ms\":"), std::string::npos) << r.out;
}

TEST_F(Tetherctl, InfoPrintsTheGuestFacts) {
  auto r = test::run_tetherctl(sock() + "info");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("kernel:"), std::string::npos);
  EXPECT_NE(r.out.find("services:    ping, info"), std::string::npos) << r.out;
}

TEST_F(Tetherctl, InfoJsonCarriesFieldNames) {
  auto r = test::run_tetherctl("--json " + sock() + "info");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"kernel_release\""), std::string::npos) << r.out;
}

TEST_F(Tetherctl, ReadsTheSocketFromTheEnvironment) {
  const std::string cmd = "TETHER_SOCKET=" + agent.socket_path() + " " + test::tetherctl_binary + " ping >/dev/null 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
}

TEST(TetherctlExitStatus, IsTwoForUsageErrors) {
  EXPECT_EQ(test::run_tetherctl("--socket /x frobnicate").status, 2);
  EXPECT_EQ(test::run_tetherctl("--socket /x ping --count zero").status, 2);
  EXPECT_EQ(test::run_tetherctl("ping").status == 2 || std::getenv("TETHER_SOCKET"), true);
}

TEST(TetherctlExitStatus, IsThreeWhenTheGuestCannotBeReached) {
  auto r = test::run_tetherctl("--socket /nonexistent.sock --timeout 0.3 ping");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("/nonexistent.sock"), std::string::npos) << r.out;
}

TEST(TetherctlHelp, ListsTheCommands) {
  auto r = test::run_tetherctl("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("ping"), std::string::npos);
  EXPECT_NE(r.out.find("info"), std::string::npos);
}

}  // namespace
}  // namespace tether
