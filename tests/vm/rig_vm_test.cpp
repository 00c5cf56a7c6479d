// The VM test rig itself: a boot that fails, in any of the ways seen, ends
// its QEMU before the error reaches the test, and a QEMU dies with the
// process that owns it even when that process is killed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "support/agent_process.hpp"
#include "vm_fixture.hpp"

namespace tether::test {
namespace {

using namespace std::chrono_literals;

class TheVmRig : public ::testing::Test {
 protected:
  temp_dir tmp;
  std::string state = tmp.path() + "/state";

  boot_options options() {
    auto o = vm_guest::default_options();
    o.state_dir = state;
    o.boot_log.clear();  // on purpose: these boots stay out of the suite's summary
    o.label = "rig test guest";
    return o;
  }
  // The error of a boot that must fail; a test failure (saying `why`) if it
  // booted after all.
  static std::optional<boot_error> failed_boot(const boot_options& o, const std::string& why) {
    try {
      qemu_guest g(o);
    } catch (const boot_error& e) {
      return e;
    }
    ADD_FAILURE() << why;
    return std::nullopt;
  }
  // No process of this test's guest is left: nothing mentions its state dir.
  void expect_no_qemu_left() {
    EXPECT_TRUE(processes_mentioning(state).empty()) << "a QEMU of " << state << " still runs";
  }
};

TEST_F(TheVmRig, FailsAtOnceAndLeavesNoQemuWhenTheKernelCannotBoot) {
  auto o = options();
  o.kernel = tmp.path() + "/not-a-kernel";
  std::ofstream(o.kernel) << std::string(64 * 1024, 'x');
  if (const auto e = failed_boot(o, "booted a kernel made of 'x'")) {
    const std::string what = e->what();
    EXPECT_NE(what.find("QEMU exited (status 1) before the guest was ready"), std::string::npos) << what;
    EXPECT_EQ(e->report.attempts, 1) << "an exit is no stall: not retried";
    EXPECT_EQ(e->report.stalls, 0);
  }
  expect_no_qemu_left();
}

TEST_F(TheVmRig, KillsQemuWhenTheReadyMarkerNeverComes) {
  auto o = options();
  o.ready_marker = "TETHER-NEVER-PRINTED";
  o.ready_timeout = 20s;
  o.silence_limit = 600s;
  const auto t0 = std::chrono::steady_clock::now();
  if (const auto e = failed_boot(o, "a marker the guest never prints was found")) {
    const std::string what = e->what();
    EXPECT_NE(what.find("not ready within 20 s (no \"TETHER-NEVER-PRINTED\" on the console)"), std::string::npos)
        << what;
    // The error carries the console: the kernel's own messages (no "quiet").
    EXPECT_NE(what.find("Run /init as init process"), std::string::npos) << what;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 60s);
  expect_no_qemu_left();
}

TEST_F(TheVmRig, RetriesABootWhoseConsoleStaysSilentOnceThenFails) {
  auto o = options();
  o.qemu_args = {"-S"};  // the CPUs never start: nothing is ever printed
  o.silence_limit = 3s;
  o.boot_log = tmp.path() + "/boots.log";
  if (const auto e = failed_boot(o, "a guest whose CPUs never ran was ready")) {
    const std::string what = e->what();
    EXPECT_NE(what.find("boot stalled: console silent for 3 s (nothing printed at all)"), std::string::npos) << what;
    EXPECT_EQ(e->report.attempts, 2);
    EXPECT_EQ(e->report.stalls, 2);
  }
  std::ifstream log(o.boot_log);
  std::string line;
  ASSERT_TRUE(std::getline(log, line));
  EXPECT_EQ(line.rfind("failed attempts=2 stalls=2 ", 0), 0u) << line;
  expect_no_qemu_left();
}

// Kills and reaps a forked child however the test ends, so that a failed
// assertion cannot leave it holding ctest's output pipe.
struct child_guard {
  pid_t pid = -1;
  ~child_guard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

TEST_F(TheVmRig, EndsQemuWhenTheProcessThatOwnsItIsKilled) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  child_guard guard{owner};
  if (owner == 0) {  // the "test binary": boots a guest, reports its QEMU, waits to be killed
    ::close(p[0]);
    try {
      auto o = options();
      o.qemu_args = {"-S"};
      o.ready_marker.clear();  // return once QEMU runs (its QMP socket exists)
      qemu_guest g(o);
      const pid_t qemu = g.pid();
      if (::write(p[1], &qemu, sizeof qemu) != sizeof qemu) ::_exit(1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(1);
    }
  }
  ::close(p[1]);
  pid_t qemu = -1;
  ASSERT_EQ(::read(p[0], &qemu, sizeof qemu), static_cast<ssize_t>(sizeof qemu));
  ::close(p[0]);
  ASSERT_GT(qemu, 0);
  ASSERT_FALSE(processes_mentioning(state).empty()) << "QEMU should run while its owner lives";
  ::kill(owner, SIGKILL);
  int st = 0;
  ASSERT_EQ(::waitpid(owner, &st, 0), owner);
  guard.pid = -1;
  EXPECT_TRUE(wait_process_gone(qemu, 10s)) << "QEMU " << qemu << " outlived the process that owned it";
  expect_no_qemu_left();
}

}  // namespace
}  // namespace tether::test
