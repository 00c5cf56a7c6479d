// tetherctl as a user runs it: output, --json, exit statuses.
#include <gtest/gtest.h>

#include <cstdio>
#include <sys/wait.h>

#include "support/agent_process.hpp"

namespace tether {
namespace {

struct result {
  int status;
  std::string out;
};

result run(const std::string& args) {
  const std::string cmd = std::string(TETHERCTL_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

class Tetherctl : public ::testing::Test {
 protected:
  test::agent_process agent;
  std::string sock() const { return "--socket " + agent.socket_path() + " "; }
};

TEST_F(Tetherctl, PingPrintsMinMedianMax) {
  auto r = run(sock() + "ping --count 5");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("5 ping(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("median"), std::string::npos);
}

TEST_F(Tetherctl, PingJsonIsOneObject) {
  auto r = run("--json " + sock() + "ping --count 3");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_NE(r.out.find("\"median_ms\":"), std::string::npos) << r.out;
}

TEST_F(Tetherctl, InfoPrintsTheGuestFacts) {
  auto r = run(sock() + "info");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("kernel:"), std::string::npos);
  EXPECT_NE(r.out.find("services:    ping, info"), std::string::npos) << r.out;
}

TEST_F(Tetherctl, InfoJsonCarriesFieldNames) {
  auto r = run("--json " + sock() + "info");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("\"kernel_release\""), std::string::npos) << r.out;
}

TEST_F(Tetherctl, ReadsTheSocketFromTheEnvironment) {
  const std::string cmd = "TETHER_SOCKET=" + agent.socket_path() + " " + TETHERCTL_BINARY + " ping >/dev/null 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
}

TEST(TetherctlExitStatus, IsTwoForUsageErrors) {
  EXPECT_EQ(run("--socket /x frobnicate").status, 2);
  EXPECT_EQ(run("--socket /x ping --count zero").status, 2);
  EXPECT_EQ(run("ping").status == 2 || std::getenv("TETHER_SOCKET"), true);
}

TEST(TetherctlExitStatus, IsThreeWhenTheGuestCannotBeReached) {
  auto r = run("--socket /nonexistent.sock --timeout 0.3 ping");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("/nonexistent.sock"), std::string::npos) << r.out;
}

TEST(TetherctlHelp, ListsTheCommands) {
  auto r = run("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("ping"), std::string::npos);
  EXPECT_NE(r.out.find("info"), std::string::npos);
}

}  // namespace
}  // namespace tether
