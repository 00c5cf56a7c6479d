// The agent config file, end to end: the real agent binary reads a file
// given with --config, and the real library sees its effect.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "support/agent_client.hpp"
#include "support/build_paths.hpp"
#include "support/async.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/v1/stats.pb.h"
#include "typed_call.hpp"

namespace tether {
namespace {

using test::run_for;

std::string write_config(const test::temp_dir& dir, const std::string& text) {
  const std::string path = dir.path() + "/agent.conf";
  std::ofstream(path) << text;
  return path;
}

struct run_result {
  int exit_status = -1;
  std::string output;  // stdout and stderr
};

// Runs the agent to completion (it must exit on its own, as with
// --check-config or a bad config).
run_result run_agent(const std::string& args) {
  run_result r;
  FILE* p = ::popen((std::string(test::agent_binary) + " " + args + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs `op`, which the agent must refuse as disabled by its configuration
// (`what` names the call for the failure message); returns the refusal's
// text for the caller to check.
template <class T>
std::string refusal_of(asio::io_context& ctx, awaitable<T> op, const std::string& what) {
  const auto e = test::error_of(ctx, std::move(op), what);
  EXPECT_TRUE(e.is_remote()) << e.what();
  EXPECT_EQ(e.remote_code(), remote_errc::disabled_by_config) << e.what();
  return e.what();
}

class AnAgentWithAConfigFile : public ::testing::Test {
 protected:
  test::temp_dir dir;
  std::string config = write_config(dir,
                                    "# stats off, three calls at a time\n"
                                    "[services]\n"
                                    "deny = stats\n"
                                    "[limits]\n"
                                    "max_concurrent_calls = 3\n");
  test::agent_process agent{{"--config", config}};
  asio::io_context ctx;
  client guest{ctx.get_executor(), {.socket_path = agent.socket_path(), .call_timeout = 10s}};
};

TEST_F(AnAgentWithAConfigFile, AnswersCallsOfADeniedServiceWithDisabledByConfigNamingTheKeyAndFile) {
  const std::string msg =
      refusal_of(ctx, detail::call<v1::StatsSample>(guest, "stats.Get", v1::StatsGetRequest{}), "stats.Get");
  EXPECT_NE(msg.find("stats.Get is disabled by the agent's configuration"), std::string::npos) << msg;
  EXPECT_NE(msg.find("services.deny in " + config), std::string::npos) << msg;
  // Other services still answer.
  EXPECT_EQ(run_for(ctx, guest.ping("still here")).payload, "still here");
}

TEST_F(AnAgentWithAConfigFile, LeavesADeniedServiceOutOfInfoAndTheHello) {
  const auto info = run_for(ctx, guest.info());
  const std::vector<std::string> services(info.services.begin(), info.services.end());
  EXPECT_EQ(std::count(services.begin(), services.end(), "stats"), 0);
  EXPECT_EQ(std::count(services.begin(), services.end(), "ping"), 1);
  EXPECT_EQ(std::count(services.begin(), services.end(), "info"), 1);
  const auto hello = guest.agent_hello();
  ASSERT_TRUE(hello.has_value());
  const auto& caps = hello->capabilities;
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "stats"), 0);
  EXPECT_EQ(std::count(caps.begin(), caps.end(), "ping"), 1);
}

TEST_F(AnAgentWithAConfigFile, AnnouncesTheConfiguredCallLimitInItsHello) {
  run_for(ctx, guest.connect());
  ASSERT_TRUE(guest.agent_hello().has_value());
  EXPECT_EQ(guest.agent_hello()->max_concurrent_calls, 3u);
}

TEST(AgentConfigFlags, OverrideTheConfigFile) {
  test::temp_dir dir;
  const auto config = write_config(dir, "[limits]\nmax_concurrent_calls = 3\n");
  test::agent_with_client t{{"--config", config, "--max-calls", "5"}};
  run_for(t.ctx, t.guest.connect());
  EXPECT_EQ(t.guest.agent_hello()->max_concurrent_calls, 5u);
}

TEST(AgentConfigFlags, AnAllowListServesOnlyTheListedServices) {
  test::temp_dir dir;
  const auto config = write_config(dir, "[services]\nallow = ping, info\n");
  test::agent_with_client t{{"--config", config}};
  const auto info = run_for(t.ctx, t.guest.info());
  EXPECT_EQ(std::vector<std::string>(info.services.begin(), info.services.end()),
            (std::vector<std::string>{"ping", "info"}));
  const std::string msg = refusal_of(t.ctx, t.guest.call("devices.List", ""), "devices.List");
  EXPECT_NE(msg.find("not listed in services.allow in " + config), std::string::npos) << msg;
}

// The policy keys the exec and files services enforce.
TEST(AgentConfigPolicy, ExecEnabledFalseDisablesExecNamingTheKey) {
  test::temp_dir dir;
  const auto config = write_config(dir, "[exec]\nenabled = false\n");
  test::agent_with_client t{{"--config", config}};
  const std::string msg = refusal_of(t.ctx, exec::run(t.guest, {.argv = {"true"}}), "exec");
  EXPECT_NE(msg.find("exec.enabled is false in " + config), std::string::npos) << msg;
  const auto info = run_for(t.ctx, t.guest.info());
  EXPECT_EQ(std::count(info.services.begin(), info.services.end(), "exec"), 0);
  EXPECT_EQ(std::count(info.services.begin(), info.services.end(), "files"), 1);
}

TEST(AgentConfigPolicy, ExecUsersLimitsWhomCommandsRunAsAndTheFlagReplacesIt) {
  test::temp_dir dir;
  const auto config = write_config(dir, "[exec]\nusers = nobody\n");
  {
    test::agent_with_client t{{"--config", config}};
    // As the agent's own user, not nobody.
    const std::string msg = refusal_of(t.ctx, exec::run(t.guest, {.argv = {"true"}}), "running as the agent's user");
    EXPECT_NE(msg.find("exec.users"), std::string::npos) << msg;
  }
  // --exec-user replaces the file's list.
  test::agent_with_client t{{"--config", config, "--exec-user", "nobody", "--exec-user", "root"}};
  const auto r = run_for(t.ctx, exec::run(t.guest, {.argv = {"id", "-un"}, .user = "root"}));
  EXPECT_EQ(r.result.exit_code, 0);
  EXPECT_EQ(r.out, "root\n");
}

TEST(AgentConfigPolicy, FilesRootsKeepFileCallsInsideThem) {
  test::temp_dir dir, allowed, other;
  const auto config = write_config(dir, "[files]\nroots = " + allowed.path() + "\n");
  test::agent_with_client t{{"--config", config}};
  run_for(t.ctx, files::upload_bytes(t.guest, "ok", allowed.path() + "/in"));
  const std::string msg =
      refusal_of(t.ctx, files::upload_bytes(t.guest, "no", other.path() + "/out"), "a path outside files.roots");
  EXPECT_NE(msg.find("files.roots"), std::string::npos) << msg;
  EXPECT_TRUE(std::filesystem::is_empty(other.path()));
}

TEST(AgentConfigFile, WithAnErrorStopsTheAgentWithFileLineAndStatus2) {
  test::temp_dir dir;
  const auto config = write_config(dir, "[limits]\n# typo below\nmax_calls = 3\n");
  const auto r = run_agent("--config " + config + " --listen-unix " + dir.path() + "/s.sock");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find(config + ":3: unknown key 'max_calls' in [limits]"), std::string::npos) << r.output;
}

// A flag checks its value as the config key does: the agent refuses to start.
TEST(AgentConfigFlags, ARelativeFilesRootABadExecUserOrARelativeHookDirStopsTheAgentWithStatus2) {
  test::temp_dir dir;
  const std::string listen = " --config /dev/null --listen-unix " + dir.path() + "/s.sock";
  const std::pair<std::string, std::string> cases[] = {
      {"--files-root data", "--files-root needs absolute paths, got 'data'"},
      {"--exec-user -rf", "--exec-user has an invalid user name '-rf'"},
      {"--host-halt-dir hooks", "--host-halt-dir needs an absolute directory, got 'hooks'"},
  };
  for (const auto& [flag, message] : cases) {
    const auto r = run_agent(flag + listen);
    EXPECT_EQ(r.exit_status, 2) << flag;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
  }
  // The same values from the file: the same words after the key's name.
  const auto config = write_config(dir, "[files]\nroots = data\n");
  const auto r = run_agent("--config " + config + " --check-config");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find(config + ":2: files.roots needs absolute paths, got 'data'"), std::string::npos) << r.output;
}

TEST(AgentConfigFile, GivenExplicitlyButMissingIsAnError) {
  test::temp_dir dir;
  const auto r = run_agent("--config " + dir.path() + "/missing.conf --check-config");
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.output.find("missing.conf: cannot open config file"), std::string::npos) << r.output;
}

TEST(AgentConfigFile, ShippedWithThePackageIsValid) {
  const auto r = run_agent(std::string("--config ") + test::source_dir + "/config/agent.conf --check-config");
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_NE(r.output.find("agent.conf: ok"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace tether
