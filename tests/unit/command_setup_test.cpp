#include "exec/command_setup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tether/agent/service.hpp"

namespace tether::agent::exec {
namespace {

TEST(EnvEdits, SetReplaceAndUnsetInOrder) {
  std::vector<std::string> env = {"A=1", "B=2", "AB=3"};
  apply_env_edits(env, {"A=x", "B", "C=", "AB=4=5"});
  EXPECT_EQ(*find_env(env, "A"), "A=x");
  EXPECT_EQ(find_env(env, "B"), nullptr);
  EXPECT_EQ(*find_env(env, "C"), "C=");
  EXPECT_EQ(*find_env(env, "AB"), "AB=4=5");
  EXPECT_EQ(env.size(), 3u);
}

TEST(InheritedEnvironment, DropsTheAgentsSupervisionVariables) {
  ::setenv("NOTIFY_SOCKET", "/run/x", 1);
  ::setenv("TETHER_UNIT_KEEP", "1", 1);
  const auto env = inherited_environment();
  EXPECT_EQ(find_env(env, "NOTIFY_SOCKET"), nullptr);
  EXPECT_NE(find_env(env, "TETHER_UNIT_KEEP"), nullptr);
  ::unsetenv("NOTIFY_SOCKET");
}

class ExecutableLookup : public ::testing::Test {
 protected:
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("tether-path-" + std::to_string(::getpid()));
  void SetUp() override {
    std::filesystem::create_directories(dir / "a");
    std::filesystem::create_directories(dir / "b");
    std::ofstream(dir / "a" / "tool") << "#!/bin/sh\n";  // not executable
    std::ofstream(dir / "b" / "tool") << "#!/bin/sh\n";
    ::chmod((dir / "b" / "tool").c_str(), 0755);
    std::filesystem::create_directories(dir / "a" / "dir-tool");
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(ExecutableLookup, TakesTheFirstExecutableRegularFileInPath) {
  const std::string path = (dir / "a").string() + ":" + (dir / "b").string();
  EXPECT_EQ(find_executable("tool", path), (dir / "b" / "tool").string());
  EXPECT_EQ(find_executable("dir-tool", path), "");
  EXPECT_EQ(find_executable("missing", path), "");
  EXPECT_EQ(find_executable("./rel/x", path), "./rel/x");  // a slash: no lookup
}

TEST(Prepare, RefusesMalformedRequests) {
  auto code_of = [](const v1::ExecRequest& r, const exec_policy& p = {}) {
    try {
      prepare(r, p);
    } catch (const call_error& e) {
      return e.code();
    }
    return v1::ERROR_CODE_OK;
  };
  v1::ExecRequest empty;
  EXPECT_EQ(code_of(empty), v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::ExecRequest nul;
  nul.add_argv(std::string("a\0b", 3));
  EXPECT_EQ(code_of(nul), v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::ExecRequest bad_env;
  bad_env.add_argv("true");
  bad_env.add_env("=x");
  EXPECT_EQ(code_of(bad_env), v1::ERROR_CODE_INVALID_ARGUMENT);
  v1::ExecRequest missing;
  missing.add_argv("no-such-command-tether");
  EXPECT_EQ(code_of(missing), v1::ERROR_CODE_NOT_FOUND);
  v1::ExecRequest as_other;
  as_other.add_argv("true");
  as_other.set_user("root");
  EXPECT_EQ(code_of(as_other, {.allowed_users = {"nobody"}}), v1::ERROR_CODE_DISABLED_BY_CONFIG);
  EXPECT_EQ(code_of(as_other, {.allowed_users = {"root"}}), v1::ERROR_CODE_OK);
}

TEST(Prepare, ResolvesThroughTheRequestsPathAndSetsUserVariables) {
  v1::ExecRequest r;
  r.add_argv("sh");
  r.add_env("PATH=/bin:/usr/bin");
  r.set_user("nobody");
  const auto spec = prepare(r, {});
  EXPECT_TRUE(spec.path == "/bin/sh" || spec.path == "/usr/bin/sh") << spec.path;
  ASSERT_TRUE(spec.creds);
  EXPECT_EQ(spec.creds->uid, 65534u);
  EXPECT_EQ(*find_env(spec.env, "USER"), "USER=nobody");
  EXPECT_TRUE(spec.die_with_agent);
}

}  // namespace
}  // namespace tether::agent::exec
