// Power without systemd: the fast guest's PID 1 is a shell script, so the
// agent falls back to sync(2) + reboot(2). Host-halt hooks still run first
// (the agent's log goes to the serial console there). The power-off is the
// last test: it ends this binary's guest.
#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "tether/power.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using clock = std::chrono::steady_clock;

class AGuestWithoutSystemd : public test::vm_test {
 protected:
  asio::io_context ctx;
  client agent{ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 60s}};
};

TEST_F(AGuestWithoutSystemd, RefusesSuspendAndSaysWhy) {
  try {
    run_for(ctx, power::request(agent, power::action::suspend), 90s);
    FAIL() << "suspend was accepted";
  } catch (const error& e) {
    EXPECT_EQ(e.remote_code(), remote_errc::failed_precondition) << e.what();
    EXPECT_NE(std::string(e.what()).find("not supported without systemd"), std::string::npos) << e.what();
  }
  run_for(ctx, agent.ping());
}

TEST_F(AGuestWithoutSystemd, RunsItsHooksThenPowersOffThroughTheKernel) {
  test::qga_client qga(guest.qga_socket(), std::chrono::seconds(60));
  auto setup = qga.exec({"/bin/sh", "-c",
                         "mkdir -p /etc/tether/host-halt.d && printf '#!/bin/sh\\necho fast hook ran as "
                         "$TETHER_POWER_ACTION\\n' > /etc/tether/host-halt.d/50-fast && "
                         "chmod 755 /etc/tether/host-halt.d/50-fast"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  const auto t0 = clock::now();
  const auto r = test::run_tetherctl("--socket " + guest.tether_socket() +
                                     " power poweroff --host-halt --wait --wait-timeout 120");
  const bool exited = guest.wait_exit(std::chrono::seconds(60));
  std::cerr << "[ measured ] fast guest host-halt poweroff (1 hook, kernel): request to QEMU exit "
            << std::chrono::duration<double>(clock::now() - t0).count() << " s\n";
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("via the kernel (no systemd"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the guest is down after"), std::string::npos) << r.out;
  ASSERT_TRUE(exited);
  const std::string c = guest.console();
  const auto hook = c.find("host-halt hook 50-fast: fast hook ran as poweroff");
  const auto off = c.find("reboot: Power down");
  ASSERT_NE(hook, std::string::npos) << guest.console_tail(40);
  ASSERT_NE(off, std::string::npos) << guest.console_tail(40);
  EXPECT_LT(hook, off);
}

}  // namespace
}  // namespace tether
