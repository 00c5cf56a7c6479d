// exec over a real virtio-serial port: exit codes, signals, live output,
// stdin, timeouts killing the whole group, large outputs. What the agent
// leaves behind in the guest is checked through qemu-ga, not tether.
#include <signal.h>

#include <chrono>

#include "support/async.hpp"
#include "support/proc_text.hpp"
#include "support/qga_client.hpp"
#include "support/random_bytes.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using std::chrono::milliseconds;

class GuestExec : public test::vm_client_test {
 protected:
  exec::captured run(exec::options o, std::optional<std::string> input = std::nullopt) {
    return run_for(ctx, exec::run(guest_client, std::move(o), {.output_limit = 64u << 20, .input = std::move(input)}), 120s);
  }

  // True when the guest has no live process with this pid (a zombie
  // waiting for the guest's init counts as gone).
  bool gone_in_guest(test::qga_client& qga, int pid) {
    auto r = qga.exec({"/bin/sh", "-c", "cat /proc/" + std::to_string(pid) + "/stat 2>/dev/null || true"});
    return test::proc::process_gone(r.out);
  }
};

TEST_F(GuestExec, ReportsExitCodesAndSignals) {
  EXPECT_EQ(run({.argv = {"true"}}).result.exit_code, 0);
  EXPECT_EQ(run({.argv = {"sh", "-c", "exit 3"}}).result.exit_code, 3);
  auto killed = run({.argv = {"sh", "-c", "kill -KILL $$"}});
  EXPECT_EQ(killed.result.signal, SIGKILL);
  EXPECT_EQ(killed.result.status(), 137);
  auto out = run({.argv = {"sh", "-c", "echo to-out; echo to-err >&2"}});
  EXPECT_EQ(out.out, "to-out\n");
  EXPECT_EQ(out.err, "to-err\n");
}

TEST_F(GuestExec, DeliversTheFirstLineWhileTheCommandStillRuns) {
  exec::options o{.argv = {"sh", "-c", "echo first; exec sleep 600"}};
  auto r = run_for(ctx, [&]() -> awaitable<exec::exit_result> {
    auto p = co_await exec::process::start(guest_client, o);
    auto first = co_await p.read();
    EXPECT_TRUE(first && first->bytes == "first\n");
    // Had the agent buffered until exit, we would still be waiting.
    co_await p.signal(SIGTERM);
    co_return co_await p.wait();
  }(), 60s);
  EXPECT_EQ(r.signal, SIGTERM);
}

TEST_F(GuestExec, RoundTripsStdin) {
  const std::string input = test::random_bytes(4u << 20, 7);
  auto r = run({.argv = {"cat"}}, input);
  EXPECT_EQ(r.result.exit_code, 0);
  ASSERT_EQ(r.out.size(), input.size());
  EXPECT_TRUE(r.out == input);
}

TEST_F(GuestExec, TimeoutKillsTheWholeGroup) {
  test::qga_client qga(guest.qga_socket());
  auto r = run({.argv = {"sh", "-c", "sleep 600 & echo $!; sleep 600"}, .timeout = 1s});
  EXPECT_TRUE(r.result.timed_out);
  const int background = std::stoi(r.out);
  EXPECT_TRUE(gone_in_guest(qga, background)) << "pid " << background << " survived the timeout";
}

TEST_F(GuestExec, CancelAndLostConnectionLeaveNothingRunning) {
  test::qga_client qga(guest.qga_socket());
  exec::options o{.argv = {"sh", "-c", "sleep 600 & echo $!; sleep 600"}};
  auto first_line = [&](exec::process& p) -> awaitable<int> {
    std::string got;
    while (got.find('\n') == std::string::npos) got += (co_await p.read()).value().bytes;
    co_return std::stoi(got);
  };
  int cancelled = 0, dropped = 0;
  run_for(ctx, [&]() -> awaitable<void> {
    auto p = co_await exec::process::start(guest_client, o);
    cancelled = co_await first_line(p);
    p.cancel();
    try {
      co_await p.wait();
    } catch (const error&) {
    }
    auto q = co_await exec::process::start(guest_client, o);
    dropped = co_await first_line(q);
    guest_client.close();  // the host goes away mid-command
  }(), 60s);
  // SIGTERM ends sleep at once; the agent acts before it answers, but the
  // guest may take a moment under TCG: ask a few times.
  for (int pid : {cancelled, dropped}) {
    bool gone = false;
    for (int i = 0; i < 50 && !gone; ++i) gone = gone_in_guest(qga, pid);
    EXPECT_TRUE(gone) << "pid " << pid << " survived";
  }
}

TEST_F(GuestExec, StreamsLargeOutputAndLeaksNoDescriptors) {
  // dd with big blocks: busybox head writes 4 KiB at a time, which under
  // TCG measures the command, not the channel.
  const std::size_t total = 64u << 20;
  exec::options o{.argv = {"dd", "if=/dev/zero", "bs=1M", "count=64"}};
  const auto t0 = std::chrono::steady_clock::now();
  auto n = run_for(ctx, [&]() -> awaitable<std::size_t> {
    auto p = co_await exec::process::start(guest_client, o);
    std::size_t got = 0;
    while (auto c = co_await p.read())
      if (c->which == exec::stream_id::out) got += c->bytes.size();
    co_await p.wait();
    co_return got;
  }(), 120s);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(n, total);
  std::cout << "[ info ] 64 MiB of command output in " << s << " s (" << 64 / s << " MiB/s)\n";

  // busybox runs ls inside the shell (which then shows ls's own directory
  // descriptor), so look at a child that only inherited what the agent gave.
  EXPECT_EQ(run({.argv = {"sh", "-c", "sleep 60 & pid=$!; ls /proc/$pid/fd; kill $pid"}}).out, "0\n1\n2\n");
}

TEST_F(GuestExec, RunsOnATerminal) {
  auto r = run({.argv = {"sh", "-c", "tty; stty size"}, .tty = true, .tty_rows = 33, .tty_cols = 120});
  EXPECT_NE(r.out.find("/dev/pts/"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("33 120"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace tether
