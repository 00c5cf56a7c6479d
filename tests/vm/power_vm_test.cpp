// Power through systemd in the full Debian guest (agent installed, started
// by udev and systemd): suspend and wake up, reboot and serve again, and at
// last a host-halt power-off that runs a hook and the host shutdown unit
// before systemd powers the machine off. The tests run in this order, the
// destructive one last; this binary has its own guest.
#include <boost/json.hpp>

#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "tether/power.hpp"
#include "tether/qmp.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using clock = std::chrono::steady_clock;

// Position of `what` in `text`, npos if missing.
std::size_t at(const std::string& text, const std::string& what) { return text.find(what); }

double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

class ADebianGuest : public test::vm_test {
 protected:
  asio::io_context ctx;
  client agent{ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 120s}};

  std::string guest_sh(const std::string& script) {
    test::qga_client qga(guest.qga_socket(), std::chrono::seconds(180));
    auto r = qga.exec({"/bin/sh", "-c", script}, std::chrono::seconds(120));
    EXPECT_EQ(r.exit_code, 0) << script << ": " << r.out << r.err;
    return r.out;
  }

};

TEST_F(ADebianGuest, SuspendsThroughLogindAndServesAgainAfterAWakeUp) {
  const auto before = run_for(ctx, agent.info(), 300s);
  qmp::options qo;
  qo.socket_path = guest.qmp_socket();
  qmp::client qemu(ctx.get_executor(), qo);
  run_for(ctx, qemu.connect());
  const auto mark = qemu.event_mark();
  const auto t0 = clock::now();
  power::options o;
  o.wait = true;
  o.wait_timeout = 120s;
  const auto out = run_for(ctx, power::request(agent, power::action::suspend, o), 180s);
  std::cerr << "[ measured ] suspend: agent silent " << seconds_since(t0) << " s after the request\n";
  EXPECT_EQ(out.reply.method, power::method::logind);
  EXPECT_TRUE(out.done);
  // QEMU agrees: the guest entered S3.
  run_for(ctx, qemu.wait_event("SUSPEND", {}, mark, {60s}), 90s);
  EXPECT_EQ(boost::json::parse(run_for(ctx, qemu.execute("query-status"))).at("status").as_string(), "suspended");
  run_for(ctx, qemu.execute("system_wakeup"));
  qemu.close();
  const auto t1 = clock::now();
  const auto after = run_for(ctx, agent.info({.timeout = 120s}), 180s);
  std::cerr << "[ measured ] wake-up to agent answering: " << seconds_since(t1) << " s\n";
  EXPECT_EQ(after.boot_id, before.boot_id);
  EXPECT_EQ(after.agent_pid, before.agent_pid);
}

TEST_F(ADebianGuest, RebootsAndItsAgentServesAgainInTheNextBoot) {
  const auto before = run_for(ctx, agent.info(), 300s);
  const auto t0 = clock::now();
  power::options o;
  o.wait = true;
  o.wait_timeout = 300s;
  const auto out = run_for(ctx, power::request(agent, power::action::reboot, o), 360s);
  std::cerr << "[ measured ] reboot: request to the agent serving in the new boot " << seconds_since(t0) << " s\n";
  EXPECT_TRUE(out.done);
  EXPECT_EQ(out.reply.method, power::method::logind);
  EXPECT_EQ(out.reply.boot_id, before.boot_id);
  EXPECT_NE(out.boot_id, before.boot_id);
  const auto after = run_for(ctx, agent.info(), 120s);
  EXPECT_EQ(after.boot_id, out.boot_id);
  // udev and systemd started the agent again: the process that answers is
  // the unit's main process in the new boot. (Its pid may well equal the
  // last boot's: a fresh boot hands out pids in nearly the same order.)
  EXPECT_EQ(guest_sh("systemctl is-active tether-agent.service"), "active\n");
  EXPECT_EQ(guest_sh("systemctl show -p MainPID --value tether-agent.service"),
            std::to_string(after.agent_pid) + "\n");
  EXPECT_NE(at(guest.console(), "reboot: Restarting system"), std::string::npos);
}

TEST_F(ADebianGuest, PowersOffForAHostHaltAfterItsHookAndTheHostShutdownUnit) {
  run_for(ctx, agent.ping(), 300s);
  agent.close();  // QEMU's chardev serves one host at a time: tetherctl's turn
  // Journal messages (the agent's log: hook output) also go to the serial
  // console, so they are seen after the guest is gone.
  guest_sh(
      "mkdir -p /etc/systemd/journald.conf.d && printf '[Journal]\\nForwardToConsole=yes\\nTTYPath=/dev/ttyS0\\n"
      "MaxLevelConsole=notice\\n' > /etc/systemd/journald.conf.d/console.conf && systemctl restart systemd-journald");
  // The hook, installed the way an admin would.
  guest_sh(
      "mkdir -p /etc/tether/host-halt.d && printf '#!/bin/sh\\necho \"hook ran: action=$TETHER_POWER_ACTION "
      "host_halt=$TETHER_HOST_HALT\"\\n' > /etc/tether/host-halt.d/10-tether-test && "
      "chmod 755 /etc/tether/host-halt.d/10-tether-test");
  // This guest is also a host: tether-host-shutdown.service (installed with
  // tetherctl) must power off its own "guest" (a simulated agent on a unix
  // socket) at shutdown, before that guest's unit stops.
  guest_sh(
      // Type=notify: systemd-run returns once the agent said READY, which it
      // does after its socket listens.
      "systemd-run -p Type=notify --unit=tether-fake-guest /usr/sbin/tether-agent --listen-unix /run/tether-fake-guest.sock "
      "--power-simulate --power-method kernel --host-halt-dir /nonexistent && "
      "mkdir -p /etc/tether/guests.d /etc/systemd/system/tether-host-shutdown.service.d && "
      "printf 'name = fake\\nsocket = /run/tether-fake-guest.sock\\n' > /etc/tether/guests.d/fake.conf && "
      "printf '[Unit]\\nAfter=tether-fake-guest.service\\n[Service]\\nStandardOutput=journal+console\\n' > "
      "/etc/systemd/system/tether-host-shutdown.service.d/test.conf && "
      "systemctl daemon-reload && systemctl start tether-host-shutdown.service && "
      "test -S /run/tether-fake-guest.sock");

  const auto t0 = clock::now();
  const auto r = test::run_tetherctl("--socket " + guest.tether_socket() +
                                     " power poweroff --host-halt --wait --wait-timeout 240");
  const bool exited = guest.wait_exit(std::chrono::seconds(60));
  std::cerr << "[ measured ] host-halt poweroff (1 hook): request to QEMU exit " << seconds_since(t0) << " s\n";
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(at(r.out, "poweroff accepted by the guest (via logind)"), std::string::npos) << r.out;
  EXPECT_NE(at(r.out, "host-halt hooks to run first: 10-tether-test"), std::string::npos) << r.out;
  EXPECT_NE(at(r.out, "host-halt hook 10-tether-test exited with status 0"), std::string::npos) << r.out;
  EXPECT_NE(at(r.out, "the guest is down after"), std::string::npos) << r.out;
  ASSERT_TRUE(exited) << "QEMU still runs";

  // The console tells the order: the hook's output (through the agent's
  // log), the host unit powering off its guest, systemd's shutdown, the
  // kernel's power-off.
  const std::string c = guest.console();
  const auto hook = at(c, "host-halt hook 10-tether-test: hook ran: action=poweroff host_halt=1");
  const auto unit = at(c, "fake: down - agent: poweroff via the kernel (simulated)");
  const auto target = at(c, "System Power Off");  // poweroff.target, reached by systemd
  const auto off = at(c, "reboot: Power down");
  ASSERT_NE(hook, std::string::npos) << test::vm_guest::shared().console_tail(80);
  EXPECT_NE(unit, std::string::npos) << test::vm_guest::shared().console_tail(80);
  EXPECT_NE(target, std::string::npos) << test::vm_guest::shared().console_tail(80);
  ASSERT_NE(off, std::string::npos) << test::vm_guest::shared().console_tail(80);
  EXPECT_LT(hook, off);
  EXPECT_LT(unit, off);
  EXPECT_LT(hook, target);
}

}  // namespace
}  // namespace tether
