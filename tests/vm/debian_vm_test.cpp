// The agent installed in a full Debian guest (systemd as PID 1) by
// `cmake --install`: udev and systemd start it, restart it, and log it.
#include <set>

#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "tether/client.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;

class AnInstalledAgent : public test::vm_test {
 protected:
  asio::io_context ctx;
  client agent{ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 120s}};
  test::qga_client qga{guest.qga_socket(), std::chrono::seconds(120)};

  std::string guest_sh(const std::string& script) {
    auto r = qga.exec({"/bin/sh", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << script << ": " << r.err;
    return r.out;
  }
};

TEST_F(AnInstalledAgent, RunsBecauseItsPortAppeared) {
  const auto info = run_for(ctx, agent.info(), 180s);
  const auto show = guest_sh("systemctl show tether-agent.service -p ActiveState -p MainPID -p Type");
  EXPECT_NE(show.find("ActiveState=active"), std::string::npos) << show;
  EXPECT_NE(show.find("Type=notify"), std::string::npos) << show;
  EXPECT_NE(show.find("MainPID=" + std::to_string(info.agent_pid) + "\n"), std::string::npos) << show;
  // Nothing enabled the service: udev tagged the port for systemd and asked
  // for the service (70-tether-agent.rules).
  const auto props = guest_sh("udevadm info --query=property /dev/virtio-ports/org.tether.agent.0");
  EXPECT_NE(props.find("SYSTEMD_WANTS=tether-agent.service"), std::string::npos) << props;
  EXPECT_NE(props.find(":systemd:"), std::string::npos) << props;
  EXPECT_EQ(guest_sh("systemctl is-enabled tether-agent.service || true"), "static\n");
  EXPECT_EQ(info.hostname, "tether-debian");
}

TEST_F(AnInstalledAgent, LogsToTheJournalWithPriorities) {
  run_for(ctx, agent.ping(), 180s);
  const auto notices = guest_sh("journalctl -u tether-agent.service -p notice --no-pager -o cat");
  EXPECT_NE(notices.find("serving on /dev/virtio-ports/org.tether.agent.0"), std::string::npos) << notices;
}

TEST_F(AnInstalledAgent, AnswersTheFirstCallOfEachNewHostInQuickSuccession) {
  // Each client connects right after the previous one closed: the agent must
  // not end the new host's session on the old host's disconnect notice.
  run_for(ctx, agent.ping(), 180s);
  agent.close();
  std::set<std::string> sessions;
  for (int i = 0; i < 30; ++i) {
    client c(ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 60s});
    sessions.insert(run_for(ctx, c.info()).session_id);
    c.close();
    ctx.poll();
  }
  EXPECT_EQ(sessions.size(), 30u);
}

TEST_F(AnInstalledAgent, IsRestartedBySystemdAfterACrash) {
  const auto first = run_for(ctx, agent.info(), 180s).agent_pid;
  guest_sh("kill -9 " + std::to_string(first));
  std::optional<std::uint32_t> second;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!second && std::chrono::steady_clock::now() < deadline) {
    try {
      second = run_for(ctx, agent.info({.timeout = 10s})).agent_pid;
    } catch (const error& e) {
      ASSERT_TRUE(e.is_connectivity()) << e.what();  // while systemd restarts it
    }
  }
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*second, first);
}

}  // namespace
}  // namespace tether
