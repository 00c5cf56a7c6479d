// tetherctl shutdown-all, what tether-host-shutdown.service runs when the
// host goes down, against two full Debian guests: one whose agent powers it
// off (host halt), one without an agent (its unit masked on the kernel
// command line) that gets an ACPI power button press through QMP, which
// logind turns into a clean shutdown. Both must be down by the deadline.
#include <fstream>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using clock = std::chrono::steady_clock;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class TwoDebianGuests : public test::vm_test {};

TEST_F(TwoDebianGuests, AreBothDownByTheDeadlineTheOneWithoutAnAgentThroughACPI) {
  auto bare = test::vm_guest::boot_another("systemd.mask=tether-agent.service");
  {
    // The second guest really has no agent (its port exists, nobody serves it).
    test::qga_client qga(bare->qga_socket(), std::chrono::seconds(180));
    auto r = qga.exec({"/bin/sh", "-c", "systemctl is-active tether-agent.service; true"});
    EXPECT_NE(r.out, "active\n");
  }
  // The first one's agent serves.
  asio::io_context ctx;
  {
    client agent(ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 300s});
    run_for(ctx, agent.ping(), 330s);
  }

  test::temp_dir conf;
  std::ofstream(conf.path() + "/with-agent.conf")
      << "socket = " << guest.tether_socket() << "\nqmp = " << guest.qmp_socket() << "\n";
  std::ofstream(conf.path() + "/without-agent.conf")
      << "socket = " << bare->tether_socket() << "\nqmp = " << bare->qmp_socket() << "\n";

  const auto t0 = clock::now();
  const auto r = test::run_tetherctl("shutdown-all --config-dir " + conf.path() +
                                     " --deadline 240 --agent-timeout 10");
  const double took = std::chrono::duration<double>(clock::now() - t0).count();
  std::cerr << "[ measured ] shutdown-all, 2 Debian guests (1 without agent): " << took << " s\n" << r.out;
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(contains(r.out, "with-agent: down - agent: poweroff via logind")) << r.out;
  EXPECT_TRUE(contains(r.out, "without-agent: down - agent did not answer")) << r.out;
  EXPECT_TRUE(contains(r.out, "ACPI power button via QMP")) << r.out;
  EXPECT_TRUE(contains(r.out, "shutdown-all: 2 of 2 guest(s) down")) << r.out;
  EXPECT_TRUE(guest.wait_exit(std::chrono::seconds(30)));
  EXPECT_TRUE(bare->wait_exit(std::chrono::seconds(30)));
  // Both went through a clean shutdown to the power-off.
  for (const auto* g : {&guest, bare.get()}) {
    const std::string c = g->console();
    EXPECT_TRUE(contains(c, "System Power Off")) << g->console_tail(40);
    EXPECT_TRUE(contains(c, "reboot: Power down")) << g->console_tail(40);
  }
}

}  // namespace
}  // namespace tether
