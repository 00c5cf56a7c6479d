// The tether-agent Debian package in the full Debian guest: dpkg installed
// it (scripts/guest/build-debian-image.sh), its unit survives what exec'd
// commands do, and /etc/tether/agent.conf takes effect on a restart.
#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "tether/client.hpp"
#include "tether/v1/stats.pb.h"
#include "typed_call.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;

class ThePackagedAgent : public test::vm_test {
 protected:
  asio::io_context ctx;
  client agent{ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 120s}};
  test::qga_client qga{guest.qga_socket(), std::chrono::seconds(120)};

  test::qga_client::exec_result sh(const std::string& script) {
    return qga.exec({"/bin/sh", "-c", script}, std::chrono::seconds(90));
  }
  std::string guest_sh(const std::string& script) {
    auto r = sh(script);
    EXPECT_EQ(r.exit_code, 0) << script << ": " << r.err;
    return r.out;
  }
  std::string unit_property(const std::string& p) {
    auto v = guest_sh("systemctl show tether-agent.service --value -p " + p);
    while (!v.empty() && v.back() == '\n') v.pop_back();
    return v;
  }
};

TEST_F(ThePackagedAgent, IsInstalledByDpkgWithItsConffileAndHookDirectory) {
  const auto info = run_for(ctx, agent.info(), 180s);
  EXPECT_EQ(guest_sh("dpkg-query -W -f '${Status} ${Version}' tether-agent"),
            "install ok installed " + info.agent_version + "-1");
  EXPECT_EQ(guest_sh("dpkg-query -S /usr/sbin/tether-agent"), "tether-agent: /usr/sbin/tether-agent\n");
  EXPECT_NE(guest_sh("dpkg-query -W -f '${Conffiles}' tether-agent").find("/etc/tether/agent.conf "),
            std::string::npos);
  EXPECT_EQ(guest_sh("test -d /etc/tether/host-halt.d && echo yes"), "yes\n");
  EXPECT_EQ(guest_sh("tether-agent --check-config"), "/etc/tether/agent.conf: ok\n");
  // The process systemd runs is the packaged binary.
  EXPECT_EQ(guest_sh("readlink /proc/" + std::to_string(info.agent_pid) + "/exe"), "/usr/sbin/tether-agent\n");
}

// OOMPolicy=continue: exec'd commands share the agent's cgroup, and one of
// them being OOM-killed must not stop the agent (systemd's default would).
TEST_F(ThePackagedAgent, KeepsServingWhenTheOomKillerKillsAProcessInItsCgroup) {
  const auto before = run_for(ctx, agent.info(), 180s).agent_pid;
  // A shell moves itself into the agent's cgroup, makes itself the OOM
  // killer's first choice and leaves a child there; the child inherits both.
  const auto victim = guest_sh(
      "echo $$ > /sys/fs/cgroup/system.slice/tether-agent.service/cgroup.procs && "
      "echo 1000 > /proc/self/oom_score_adj && "
      "{ sleep 600 </dev/null >/dev/null 2>&1 & echo $!; }");
  ASSERT_FALSE(victim.empty());
  const std::string pid = victim.substr(0, victim.find('\n'));
  // The kernel's OOM killer, run by hand (sysrq f), kills the process with
  // the highest badness: the victim.
  guest_sh("echo f > /proc/sysrq-trigger");
  guest_sh("timeout 60 sh -c 'while kill -0 " + pid + " 2>/dev/null; do sleep 0.1; done'");
  // Wait until systemd has seen the kill (it logs it for the unit), then the
  // agent must still be the same, active process.
  guest_sh("timeout 60 sh -c 'until journalctl -u tether-agent.service -o cat --no-pager | "
           "grep -q \"killed by the OOM killer\"; do sleep 0.2; done'");
  EXPECT_EQ(unit_property("ActiveState"), "active");
  EXPECT_EQ(unit_property("MainPID"), std::to_string(before));
  EXPECT_EQ(run_for(ctx, agent.info(), 60s).agent_pid, before);
}

TEST_F(ThePackagedAgent, AppliesItsConfigFileOnRestartAndStaysDownOnABadOne) {
  run_for(ctx, agent.ping(), 180s);
  guest_sh("cp /etc/tether/agent.conf /run/agent.conf.orig");
  struct restore {
    test::qga_client& qga;
    ~restore() {
      qga.exec({"/bin/sh", "-c",
                "cp /run/agent.conf.orig /etc/tether/agent.conf; systemctl reset-failed tether-agent.service; "
                "systemctl restart tether-agent.service"},
               std::chrono::seconds(90));
    }
  } restore_on_exit{qga};

  // A denied service: its calls are refused, naming the key and the file.
  guest_sh("printf '[services]\\ndeny = stats\\n[limits]\\nmax_concurrent_calls = 7\\n' > /etc/tether/agent.conf"
           " && systemctl restart tether-agent.service");
  {
    client c(ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 60s});
    try {
      run_for(ctx, detail::call<v1::StatsSample>(c, "stats.Get", v1::StatsGetRequest{}));
      ADD_FAILURE() << "stats.Get must be disabled";
    } catch (const error& e) {
      EXPECT_EQ(e.remote_code(), remote_errc::disabled_by_config) << e.what();
      EXPECT_NE(std::string(e.what()).find("services.deny in /etc/tether/agent.conf"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(c.agent_hello()->max_concurrent_calls, 7u);
  }

  // A typo: the agent exits with status 2 naming file and line, and systemd
  // does not restart it (RestartPreventExitStatus=2): the unit goes straight
  // to "failed" instead of "auto-restart".
  EXPECT_NE(sh("printf '[limits]\\nmax_calls = 3\\n' > /etc/tether/agent.conf && "
               "systemctl restart tether-agent.service")
                .exit_code,
            0);
  EXPECT_EQ(unit_property("ExecMainStatus"), "2");
  EXPECT_EQ(unit_property("SubState"), "failed");
  EXPECT_NE(guest_sh("journalctl -u tether-agent.service -o cat --no-pager")
                .find("/etc/tether/agent.conf:2: unknown key 'max_calls' in [limits]"),
            std::string::npos);
}

TEST_F(ThePackagedAgent, ServesAgainWithTheDefaultConfigAfterwards) {
  // (The previous test restored the shipped config.)
  const auto info = run_for(ctx, agent.info(), 180s);
  EXPECT_NE(std::find(info.services.begin(), info.services.end(), "stats"), info.services.end());
  EXPECT_EQ(unit_property("ActiveState"), "active");
}

}  // namespace
}  // namespace tether
