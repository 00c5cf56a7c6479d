// exec.Run, exec.Signal, exec.Resize: the real agent runs real commands on
// this machine, driven through libtether and tetherctl.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support/agent_client.hpp"
#include "support/async.hpp"
#include "support/proc_text.hpp"
#include "support/random_bytes.hpp"
#include "support/slurp.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"
#include "tether/v1/exec.pb.h"

namespace tether {
namespace {

using test::run_for;
using test::slurp;
using std::chrono::milliseconds;

bool process_gone(pid_t pid) { return test::proc::process_gone(slurp("/proc/" + std::to_string(pid) + "/stat")); }

// Polls a condition with a deadline: for effects of another process that
// have no notification (a process disappearing).
template <class F>
bool eventually(F f, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    ::usleep(10'000);
  }
  return f();
}

std::uint64_t rss_kib(pid_t pid) {
  return test::proc::kib_field(slurp("/proc/" + std::to_string(pid) + "/status"), "VmRSS");
}

std::set<pid_t> children_of(pid_t pid) {
  std::set<pid_t> out;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::istringstream in(slurp(t.path().string() + "/children"));
    pid_t c;
    while (in >> c) out.insert(c);
  }
  return out;
}

class AnExecAgent : public test::agent_client_test {
 protected:
  AnExecAgent() : agent_client_test({}, {.call_timeout = 20s}) {}

  exec::captured run(exec::options o, std::optional<std::string> input = std::nullopt,
                     std::size_t limit = 16u << 20) {
    return run_for(ctx, exec::run(guest, std::move(o), {.output_limit = limit, .input = std::move(input)}));
  }

  // Starts a command, returns the process and the first line it prints.
  struct started {
    std::unique_ptr<exec::process> p;
    std::string line;
  };
  started start_and_read_line(exec::options o) {
    return run_for(ctx, [&]() -> awaitable<started> {
      auto p = std::make_unique<exec::process>(co_await exec::process::start(guest, o));
      std::string got;
      while (got.find('\n') == std::string::npos) {
        auto c = co_await p->read();
        if (!c) break;
        got += c->bytes;
      }
      started st;
      st.p = std::move(p);
      st.line = got;
      co_return st;
    }());
  }
};

TEST_F(AnExecAgent, ReportsExitCodesAndSignals) {
  auto ok = run({.argv = {"true"}});
  EXPECT_EQ(ok.result.exit_code, 0);
  EXPECT_FALSE(ok.result.signal);
  EXPECT_GT(ok.result.pid, 0);
  EXPECT_GT(ok.result.run_time.count(), 0);

  EXPECT_EQ(run({.argv = {"sh", "-c", "exit 7"}}).result.exit_code, 7);

  auto killed = run({.argv = {"sh", "-c", "kill -TERM $$"}});
  EXPECT_FALSE(killed.result.exit_code);
  EXPECT_EQ(killed.result.signal, SIGTERM);
  EXPECT_EQ(killed.result.status(), 128 + SIGTERM);
}

TEST_F(AnExecAgent, KeepsStdoutAndStderrApartOrMergesThem) {
  auto sep = run({.argv = {"sh", "-c", "echo out; echo err >&2; echo out2"}});
  EXPECT_EQ(sep.out, "out\nout2\n");
  EXPECT_EQ(sep.err, "err\n");
  auto merged = run({.argv = {"sh", "-c", "echo out; echo err >&2; echo out2"}, .merge_stderr = true});
  EXPECT_EQ(merged.out, "out\nerr\nout2\n");
  EXPECT_EQ(merged.err, "");
}

TEST_F(AnExecAgent, CarriesOutputOfEverySizeIntact) {
  // Sizes around the agent's read buffer, which starts small and grows.
  for (std::size_t size : {0u, 1u, 4095u, 4096u, 4097u, 32767u, 32768u, 32769u, 262143u, 262144u, 262145u,
                           3u << 20}) {
    const std::string data = test::random_bytes(size, static_cast<unsigned>(size));
    const std::string path = agent.dir() + "/out-" + std::to_string(size);
    std::ofstream(path, std::ios::binary) << data;
    auto r = run({.argv = {"sh", "-c", "cat \"$0\"; cat \"$0\" >&2", path}});
    EXPECT_EQ(r.out.size(), size);
    EXPECT_TRUE(r.out == data) << "stdout of " << size << " bytes differs";
    EXPECT_TRUE(r.err == data) << "stderr of " << size << " bytes differs";
  }
}

TEST_F(AnExecAgent, StreamsTheFirstLineBeforeTheCommandEnds) {
  // The command would run 100 s; we get its first line, then stop it: the
  // line cannot have come from a buffer flushed at exit.
  auto [p, line] = start_and_read_line({.argv = {"sh", "-c", "echo first; exec sleep 100"}});
  EXPECT_EQ(line, "first\n");
  auto r = run_for(ctx, [&]() -> awaitable<exec::exit_result> {
    co_await p->signal(SIGTERM);
    co_return co_await p->wait();
  }());
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(AnExecAgent, RoundTripsStdin) {
  const std::string input = test::random_bytes(5u << 20, 42);
  auto r = run({.argv = {"cat"}}, input);
  EXPECT_EQ(r.result.exit_code, 0);
  EXPECT_EQ(r.out.size(), input.size());
  EXPECT_TRUE(r.out == input);

  // EOF reaches the command.
  EXPECT_EQ(run({.argv = {"wc", "-c"}}, std::string(12345, 'x')).out, "12345\n");
}

TEST_F(AnExecAgent, DropsInputTheCommandDoesNotRead) {
  // As through a shell's pipe: the command's outcome, not a failed run.
  const std::string input(8u << 20, 'x');
  EXPECT_EQ(run({.argv = {"true"}}, input).result.exit_code, 0);
  auto partly = run({.argv = {"head", "-c", "3"}}, input);
  EXPECT_EQ(partly.result.exit_code, 0);
  EXPECT_EQ(partly.out, "xxx");
  // A command that cannot start still reports why.
  try {
    run({.argv = {"tether-no-such-command"}}, input);
    ADD_FAILURE() << "an unknown command ran";
  } catch (const error& e) {
    EXPECT_EQ(e.remote_code(), remote_errc::not_found) << e.what();
  }
}

TEST_F(AnExecAgent, TimeoutTerminatesTheWholeGroup) {
  auto r = run({.argv = {"sh", "-c", "sleep 1000 & echo $!; wait"}, .timeout = 300ms});
  EXPECT_TRUE(r.result.timed_out);
  EXPECT_EQ(r.result.signal, SIGTERM);
  const pid_t background = std::stoi(r.out);
  EXPECT_TRUE(eventually([&] { return process_gone(background); })) << "background sleep " << background << " survived";
}

TEST_F(AnExecAgent, KillsWhatIgnoresSigtermAfterTheGrace) {
  auto r = run({.argv = {"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"},
                .timeout = 200ms, .kill_grace = 300ms});
  EXPECT_TRUE(r.result.timed_out);
  EXPECT_EQ(r.result.signal, SIGKILL);
}

TEST_F(AnExecAgent, KillsTheGroupWhenTheCallIsCancelled) {
  auto [p, line] = start_and_read_line({.argv = {"sh", "-c", "sleep 1000 & echo $!; wait"}});
  const pid_t background = std::stoi(line);
  p->cancel();
  EXPECT_THROW(run_for(ctx, p->wait()), error);
  EXPECT_TRUE(eventually([&] { return process_gone(background); }));
}

TEST_F(AnExecAgent, KillsTheGroupWhenTheHostGoesAwayUnlessAskedToKeepRunning) {
  auto [p, line] = start_and_read_line({.argv = {"sh", "-c", "sleep 1000 & echo $!; wait"}});
  auto [q, kept_line] = start_and_read_line({.argv = {"sh", "-c", "echo $$; exec sleep 1000"}, .keep_running = true});
  const pid_t doomed = std::stoi(line), kept = std::stoi(kept_line);
  guest.close();
  EXPECT_TRUE(eventually([&] { return process_gone(doomed); }));
  EXPECT_FALSE(process_gone(kept));
  ::kill(kept, SIGKILL);
  // The agent still reaps it.
  EXPECT_TRUE(eventually([&] { return children_of(agent.pid()).empty(); }));
}

TEST_F(AnExecAgent, LeaksNoDescriptorsIntoTheCommand) {
  auto r = run({.argv = {"sh", "-c", "ls /proc/$$/fd"}});
  EXPECT_EQ(r.out, "0\n1\n2\n");
}

TEST_F(AnExecAgent, LeavesNoZombies) {
  for (int i = 0; i < 20; ++i) run({.argv = {"sh", "-c", "sleep 0.01 & exit 3"}});
  EXPECT_TRUE(eventually([&] { return children_of(agent.pid()).empty(); }))
      << children_of(agent.pid()).size() << " children left";
}

// ASan's quarantine keeps freed memory resident, so RSS says nothing there;
// the release run checks it.
#ifdef __SANITIZE_ADDRESS__
constexpr std::uint64_t rss_slack_kib = 1u << 30;
#else
constexpr std::uint64_t rss_slack_kib = 16 * 1024;
#endif

TEST_F(AnExecAgent, StopsReadingWhenTheHostDoesNotAndKeepsMemoryFlat) {
  const auto before = rss_kib(agent.pid());
  const std::size_t total = 256u << 20;
  exec::options o{.argv = {"head", "-c", std::to_string(total), "/dev/zero"}};
  auto count = run_for(ctx, [&]() -> awaitable<std::size_t> {
    auto p = co_await exec::process::start(guest, o);
    // Not reading for a while: the agent must hold only the window.
    asio::steady_timer t(co_await asio::this_coro::executor, 500ms);
    co_await t.async_wait(use_awaitable);
    EXPECT_LT(rss_kib(agent.pid()), before + rss_slack_kib);
    std::size_t n = 0;
    while (auto c = co_await p.read()) n += c->bytes.size();
    auto r = co_await p.wait();
    EXPECT_EQ(r.exit_code, 0);
    co_return n;
  }(), std::chrono::seconds(60));
  EXPECT_EQ(count, total);
  EXPECT_LT(rss_kib(agent.pid()), before + rss_slack_kib);
}

TEST_F(AnExecAgent, CapturesUpToTheLimitAndSaysItTruncated) {
  auto r = run({.argv = {"head", "-c", "100000", "/dev/zero"}}, std::nullopt, 1000);
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.out_truncated);
  EXPECT_FALSE(r.err_truncated);
  EXPECT_EQ(r.result.exit_code, 0);
}

TEST_F(AnExecAgent, GivesATerminalThatCanBeResized) {
  auto r = run({.argv = {"sh", "-c", "tty; stty size"}, .tty = true, .tty_rows = 30, .tty_cols = 100});
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("30 100"), std::string::npos) << r.out;

  exec::options o{.argv = {"sh", "-c", "stty -echo; echo go; read x; stty size"}, .tty = true, .stdin = true};
  auto out = run_for(ctx, [&]() -> awaitable<std::string> {
    auto p = co_await exec::process::start(guest, o);
    std::string got;
    while (got.find("go") == std::string::npos) got += (co_await p.read()).value().bytes;
    co_await p.resize(50, 132);
    co_await p.write("\n");
    while (auto c = co_await p.read()) got += c->bytes;
    co_await p.wait();
    co_return got;
  }());
  EXPECT_NE(out.find("50 132"), std::string::npos) << out;
}

TEST_F(AnExecAgent, SetsEnvironmentWorkingDirectoryAndUser) {
  auto env = run({.argv = {"env"}, .env = {"TETHER_X=1 2", "HOME"}, .clear_env = false});
  EXPECT_NE(env.out.find("TETHER_X=1 2\n"), std::string::npos);
  EXPECT_FALSE(env.out.starts_with("HOME=") || env.out.find("\nHOME=") != std::string::npos);
  EXPECT_EQ(env.out.find("NOTIFY_SOCKET="), std::string::npos);  // the agent's own

  auto clean = run({.argv = {"/usr/bin/env"}, .env = {"A=b"}, .clear_env = true});
  EXPECT_EQ(clean.out, "A=b\n");

  EXPECT_EQ(run({.argv = {"pwd"}, .cwd = "/usr/lib"}).out, "/usr/lib\n");

  auto nobody = run({.argv = {"sh", "-c", "id -u; id -g; echo $USER"}, .user = "nobody"});
  EXPECT_EQ(nobody.out, "65534\n65534\nnobody\n");
}

TEST_F(AnExecAgent, SaysWhatIsMissing) {
  auto expect_remote = [&](exec::options o, remote_errc code, const std::string& words) {
    try {
      run(std::move(o));
      ADD_FAILURE() << "no error";
    } catch (const error& e) {
      EXPECT_EQ(e.remote_code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_remote({.argv = {"no-such-command-xyz"}}, remote_errc::not_found, "no-such-command-xyz");
  expect_remote({.argv = {"pwd"}, .cwd = "/no/such/dir"}, remote_errc::not_found, "/no/such/dir");
  expect_remote({.argv = {"true"}, .user = "no-such-user-xyz"}, remote_errc::not_found, "no-such-user-xyz");
  const std::string not_executable = agent.dir() + "/data";
  std::ofstream(not_executable) << "data\n";
  expect_remote({.argv = {not_executable}}, remote_errc::permission_denied, "execute");
  EXPECT_THROW(run({.argv = {}}), error);
}

TEST_F(AnExecAgent, RefusesSignalsForUnknownCalls) {
  try {
    run_for(ctx, guest.call("exec.Signal", [] {
      v1::ExecSignalRequest r;
      r.set_call_id(999);
      r.set_signal(SIGTERM);
      return r.SerializeAsString();
    }()));
    ADD_FAILURE() << "no error";
  } catch (const error& e) {
    EXPECT_EQ(e.remote_code(), remote_errc::not_found) << e.what();
  }
}

TEST(TetherctlExec, ExitsWithTheCommandsStatusAndStreamsOutput) {
  test::agent_process agent;
  const std::string sock = "--socket " + agent.socket_path() + " ";
  auto ok = test::run_tetherctl(sock + "exec -- sh -c 'echo hello; echo oops >&2'");
  EXPECT_EQ(ok.status, 0);
  EXPECT_NE(ok.out.find("hello\n"), std::string::npos);
  EXPECT_NE(ok.out.find("oops\n"), std::string::npos);
  EXPECT_EQ(test::run_tetherctl(sock + "exec -- sh -c 'exit 42'").status, 42);
  EXPECT_EQ(test::run_tetherctl(sock + "exec -- sh -c 'kill -KILL $$'").status, 128 + SIGKILL);
  EXPECT_EQ(test::run_tetherctl(sock + "exec --timeout 0.2 -- sleep 30").status, 124);
  auto missing = test::run_tetherctl(sock + "exec -- no-such-command-xyz");
  EXPECT_EQ(missing.status, 255);
  EXPECT_NE(missing.out.find("not found"), std::string::npos) << missing.out;
  EXPECT_EQ(test::run_tetherctl(sock + "exec --env A=1 --cwd /tmp -- sh -c 'echo $A $PWD'").out, "1 /tmp\n");
  std::ofstream(agent.dir() + "/input") << "piped\n";
  EXPECT_EQ(test::run_tetherctl(sock + "exec -i -- tr a-z A-Z < " + agent.dir() + "/input").out, "PIPED\n");
  auto json = test::run_tetherctl(sock + "--json exec -- echo hi");
  EXPECT_NE(json.out.find("\"exit_code\":0"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"stdout\":\"hi\\n\""), std::string::npos) << json.out;
  EXPECT_EQ(test::run_tetherctl(sock + "exec").status, 2);
}

}  // namespace
}  // namespace tether
