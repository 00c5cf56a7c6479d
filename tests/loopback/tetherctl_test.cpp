// tetherctl as a user runs it: output, --json, exit statuses.
#include <gtest/gtest.h>

#include "support/build_paths.hpp"
#include "support/slurp.hpp"
#include "support/tetherctl_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

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

// Status only: a freeze or thaw here would act on this machine's filesystems
// (tests/vm/qga_vm_test.cpp freezes inside a guest).
TEST_F(Tetherctl, FsfreezeStatusAndItsUsage) {
  const auto r = test::run_tetherctl(sock() + "fsfreeze status");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "thawed\n");
  EXPECT_EQ(test::run_tetherctl(sock() + "--json fsfreeze status").out, "{\"frozen\":false}\n");
  const auto wrong = test::run_tetherctl(sock() + "fsfreeze status --mountpoint /srv");
  EXPECT_EQ(wrong.status, 2) << wrong.out;
  EXPECT_NE(wrong.out.find("--mountpoint goes with freeze only"), std::string::npos) << wrong.out;
  EXPECT_EQ(test::run_tetherctl(sock() + "fsfreeze melt").status, 2);
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

TEST_F(Tetherctl, TimesTakeAUnitEverywhere) {
  EXPECT_EQ(test::run_tetherctl("--timeout 2m " + sock() + "ping --count 2 --interval 10ms").status, 0);
  EXPECT_EQ(test::run_tetherctl(sock() + "exec --timeout 300ms --kill-grace 1s -- sleep 30").status, 124);
  auto watch = test::run_tetherctl("--json " + sock() + "stats --watch 0.1s --count 2");
  EXPECT_EQ(watch.status, 0) << watch.out;
  EXPECT_EQ(std::count(watch.out.begin(), watch.out.end(), '\n'), 2) << watch.out;
  // Bare numbers keep their old unit: seconds, milliseconds for --watch.
  EXPECT_EQ(test::run_tetherctl(sock() + "stats --watch 10").status, 2);
  auto bad = test::run_tetherctl("--timeout 5x " + sock() + "ping");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("--timeout needs a time such as 500ms, 30s or 2m"), std::string::npos) << bad.out;
  auto slow = test::run_tetherctl(sock() + "stats --watch 0.01s");
  EXPECT_EQ(slow.status, 2);
  EXPECT_NE(slow.out.find("--watch must be at least 50 ms"), std::string::npos) << slow.out;
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

// The README's rule for bytes in --json output: a string when they are
// valid UTF-8, otherwise {"base64": "..."}.
std::string decode_bytes(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  const std::string_view b64 = v.at("base64").as_string();
  std::string out(boost::beast::detail::base64::decoded_size(b64.size()), '\0');
  const auto [written, read] = boost::beast::detail::base64::decode(out.data(), b64.data(), b64.size());
  EXPECT_EQ(b64.find_first_not_of('=', read), std::string_view::npos) << "not base64: " << b64;
  out.resize(written);
  return out;
}

TEST_F(Tetherctl, JsonExecOutputDecodesToExactlyTheBytesTheCommandWrote) {
  // The agent runs on this machine: the command also keeps what it wrote.
  const std::string copy = agent.dir() + "/random.bin";
  auto r = test::run_tetherctl("--json " + sock() + "exec -- sh -c 'head -c 4096 /dev/urandom | tee " + copy + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(r.out, ec);
  ASSERT_FALSE(ec) << ec.message() << ": " << r.out;
  const std::string written = test::slurp(copy);
  ASSERT_EQ(written.size(), 4096u);
  // 4096 random bytes are not UTF-8 (a chance of about 2^-1000 that they are).
  ASSERT_TRUE(doc.at("stdout").is_object()) << r.out;
  EXPECT_EQ(decode_bytes(doc.at("stdout")), written);
  EXPECT_EQ(decode_bytes(doc.at("stderr")), "");
  EXPECT_EQ(doc.at("exit_code").as_int64(), 0);
}

TEST_F(Tetherctl, JsonKeepsUtf8OutputAsAString) {
  auto r = test::run_tetherctl("--json " + sock() + "exec -- printf 'caf\\303\\251 \\342\\202\\254'");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto doc = boost::json::parse(r.out);
  ASSERT_TRUE(doc.at("stdout").is_string()) << r.out;
  EXPECT_EQ(doc.at("stdout").as_string(), "caf\u00e9 \u20ac");
  // One invalid byte is enough for the base64 form.
  auto bad = test::run_tetherctl("--json " + sock() + "exec -- printf 'caf\\351'");
  ASSERT_EQ(bad.status, 0) << bad.out;
  EXPECT_EQ(decode_bytes(boost::json::parse(bad.out).at("stdout")), "caf\xe9") << bad.out;
}

TEST_F(Tetherctl, JsonCarriesFileNamesThatAreNotUtf8) {
  test::temp_dir dir;
  const std::string odd = "odd\xff name";
  std::ofstream(dir.path() + "/" + odd) << "x";
  auto r = test::run_tetherctl("--json " + sock() + "ls " + dir.path());
  ASSERT_EQ(r.status, 0) << r.out;
  const auto entry = boost::json::parse(r.out);  // one entry: one line
  EXPECT_TRUE(entry.at("name").is_object()) << r.out;
  EXPECT_EQ(decode_bytes(entry.at("name")), odd) << r.out;
}

TEST(TetherctlExitStatus, IsThreeAtOnceForASocketThatDoesNotExist) {
  test::temp_dir dir;
  const std::string typo = dir.path() + "/typo.sock";
  for (const char* command : {"ping", "info", "exec -- true", "stats"}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = test::run_tetherctl("--socket " + typo + " " + command);  // the default --timeout: 30 s
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, 3) << command << ": " << r.out;
    EXPECT_NE(r.out.find("no socket at " + typo + ": No such file or directory"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--wait-for-guest"), std::string::npos) << r.out;
    EXPECT_LT(took, std::chrono::seconds(10)) << command << ": waited for the socket instead of failing";
  }
}

TEST(TetherctlWaitForGuest, WaitsForASocketThatAppearsLater) {
  test::temp_dir dir;
  const std::string later = dir.path() + "/later.sock";
  const std::string cmd = std::string(test::tetherctl_binary) + " --wait-for-guest --timeout 60 --socket " + later +
                          " ping 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  // tetherctl says it waits: only then does the socket appear.
  std::string out;
  char line[4096];
  while (out.find("waiting up to 60 s for " + later) == std::string::npos && std::fgets(line, sizeof line, p))
    out += line;
  EXPECT_NE(out.find("(--wait-for-guest)"), std::string::npos) << out;
  test::agent_process agent;
  ASSERT_EQ(::symlink(agent.socket_path().c_str(), later.c_str()), 0);
  while (std::fgets(line, sizeof line, p)) out += line;
  const int st = ::pclose(p);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << out;
  EXPECT_NE(out.find("1 ping(s) to " + later), std::string::npos) << out;
}

TEST(TetherctlHelp, EveryCommandHasItsOwnHelp) {
  auto exec = test::run_tetherctl("exec --help");
  EXPECT_EQ(exec.status, 0) << exec.out;
  for (const char* s : {"Usage: tetherctl exec", "--env", "--clear-env", "--cwd", "--user", "--group", "--timeout",
                        "--kill-grace", "--tty", "--stdin", "--merge-stderr", "--keep-running", "124", "base64"})
    EXPECT_NE(exec.out.find(s), std::string::npos) << s << "\n" << exec.out;
  for (const char* command : {"ping", "info", "stats", "upload", "download", "stat", "ls", "mkdir", "rm", "mv",
                              "devices", "wait-device", "events", "power", "shutdown-all", "qmp"}) {
    auto r = test::run_tetherctl(std::string(command) + " --help");
    EXPECT_EQ(r.status, 0) << command << ": " << r.out;
    EXPECT_NE(r.out.find(std::string("Usage: tetherctl ") + command), std::string::npos) << r.out;
  }
  // After "--" it is the guest command's option.
  auto r = test::run_tetherctl("--socket /nonexistent.sock exec -- ls --help");
  EXPECT_EQ(r.status, 3) << r.out;
}

TEST(TetherctlHelp, ListsTheCommands) {
  auto r = test::run_tetherctl("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("ping"), std::string::npos);
  EXPECT_NE(r.out.find("info"), std::string::npos);
}

}  // namespace
}  // namespace tether
