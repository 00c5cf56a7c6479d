// The agent in a real guest, over a real virtio-serial port.
#include <sys/utsname.h>

#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "support/async.hpp"
#include "support/proc_text.hpp"
#include "support/qga_client.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "vm_fixture.hpp"
#include "vm_guest_config.hpp"

namespace tether {
namespace {

using test::run_for;

// Each test connects its own clients: some count sessions, one needs none.
class AGuestAgent : public test::vm_test {
 protected:
  asio::io_context ctx;
  client_options opts() const { return guest.agent_client_options(); }
};

// CPU time (utime + stime, in clock ticks) of a guest process, read through
// qemu-ga so that reading it does not wake the tether agent.
long guest_cpu_ticks(test::qga_client& qga, std::uint32_t pid) {
  return test::proc::cpu_ticks(qga.read_file("/proc/" + std::to_string(pid) + "/stat"));
}

TEST_F(AGuestAgent, AnswersPingAndInfoOverVirtioSerial) {
  client c(ctx.get_executor(), opts());
  auto pong = run_for(ctx, c.ping("over virtio"), 120s);
  EXPECT_EQ(pong.payload, "over virtio");
  auto info = run_for(ctx, c.info());
  std::ifstream kr(test::vm_config::kernel_release_file);
  std::string release;
  std::getline(kr, release);
  EXPECT_EQ(info.kernel_release, release);  // the kernel the image was built with
  EXPECT_EQ(info.hostname, "tether-guest");
  EXPECT_EQ(info.boot_id.size(), 36u);
  EXPECT_GT(info.uptime_seconds, 0);
  EXPECT_FALSE(info.os_pretty_name.empty());
}

TEST_F(AGuestAgent, ServesTetherctlPingAndInfo) {
  for (const char* args : {"ping --count 20", "info", "--json info"}) {
    const auto r = test::run_tetherctl("--socket " + guest.tether_socket() + " --timeout 60 " + args);
    EXPECT_EQ(r.status, 0) << args << ":\n" << r.out;
  }
}

TEST_F(AGuestAgent, ServesTwentyHostReconnectsInARow) {
  std::set<std::string> sessions;
  std::set<std::uint32_t> pids;
  for (int i = 0; i < 20; ++i) {
    client c(ctx.get_executor(), opts());
    auto info = run_for(ctx, c.info(), 120s);
    sessions.insert(info.session_id);
    pids.insert(info.agent_pid);
    c.close();
    ctx.poll();  // let the socket close
  }
  EXPECT_EQ(sessions.size(), 20u);  // a fresh session per connection
  EXPECT_EQ(pids.size(), 1u);       // served by one agent process, no restarts
}

TEST_F(AGuestAgent, UsesNoMeasurableCpuWhileNoHostIsConnected) {
  std::uint32_t pid = 0;
  {
    client c(ctx.get_executor(), opts());
    pid = run_for(ctx, c.info(), 120s).agent_pid;
  }
  ctx.poll();
  test::qga_client qga(guest.qga_socket());
  const long before = guest_cpu_ticks(qga, pid);
  // A measurement window, not synchronisation: the agent must stay idle.
  std::this_thread::sleep_for(std::chrono::seconds(10));
  const long after = guest_cpu_ticks(qga, pid);
  std::cout << "[ info ] agent CPU with no host for 10 s: " << (after - before) << " clock ticks\n";
  // A spinning POLLHUP loop would burn ~1000 ticks (100 Hz) here; allow 3.
  EXPECT_LE(after - before, 3) << "agent used " << (after - before) << " clock ticks in 10 s with no host";
  // And it still serves afterwards.
  client c(ctx.get_executor(), opts());
  EXPECT_EQ(run_for(ctx, c.info(), 60s).agent_pid, pid);
}

}  // namespace
}  // namespace tether
