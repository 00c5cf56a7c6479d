// The agent's own port is unplugged and plugged back through QMP: the agent
// (same process) must serve again within 2 seconds.
#include <boost/json.hpp>

#include "support/async.hpp"
#include "tether/client.hpp"
#include "tether/qmp.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using clock = std::chrono::steady_clock;

class AGuestAgentsPort : public test::vm_test {
 protected:
  asio::io_context ctx;
};

TEST_F(AGuestAgentsPort, ServesAgainWithinTwoSecondsAfterBeingUnpluggedAndPluggedBack) {
  qmp::client monitor(ctx.get_executor(), {.socket_path = guest.qmp_socket()});
  run_for(ctx, monitor.connect());
  client agent(ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 60s});
  const auto pid = run_for(ctx, agent.info(), 120s).agent_pid;

  for (int cycle = 0; cycle < 3; ++cycle) {
    run_for(ctx, monitor.remove_device("tetherport"));  // waits for DEVICE_DELETED
    run_for(ctx, monitor.execute("device_add", R"({"driver": "virtserialport", "bus": "vser0.0", )"
                                               R"("chardev": "tether0", "name": "org.tether.agent.0", )"
                                               R"("id": "tetherport"})"));
    const auto plugged = clock::now();
    // The session the client had is gone: the first calls may fail with
    // connection_lost until the client has re-handshaked with the agent.
    std::optional<guest_info> info;
    while (!info && clock::now() - plugged < 10s) {
      try {
        info = run_for(ctx, agent.info({.timeout = 2s}));
      } catch (const error& e) {
        ASSERT_TRUE(e.is_connectivity()) << e.what();
      }
    }
    ASSERT_TRUE(info.has_value()) << "agent did not serve again after re-plug " << cycle;
    const double seconds = std::chrono::duration<double>(clock::now() - plugged).count();
    std::cout << "cycle " << cycle << ": serving again " << seconds << " s after device_add\n";
    EXPECT_LE(seconds, 2.0);
    EXPECT_EQ(info->agent_pid, pid);  // no restart: the same process reopened the port
  }
}

}  // namespace
}  // namespace tether
