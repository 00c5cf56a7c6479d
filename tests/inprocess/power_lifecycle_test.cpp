// The power service's lifecycle in the real agent session: it acts only
// once its reply is written, and the agent's stop abandons what has not
// started. "Acting" here is the simulated action: asking the agent to stop.
#include <gtest/gtest.h>

#include "inprocess/rig.hpp"
#include "services/power_service.hpp"
#include "tether/v1/power.pb.h"

namespace tether::test {
namespace {

struct power_rig : rig {
  power_rig() {
    agent::power_options o;
    o.simulate = true;
    o.method = agent::power::method_choice::kernel;
    power = std::make_shared<agent::power_service>(o, [this] { ++agent_stops; });
    registry.add(power);
  }

  // A raw host that asked for a power-off and reads nothing yet.
  memory_peer request_poweroff() {
    auto host = memory_host(/*capacity=*/16);  // smaller than the reply
    handshake(host);
    v1::PowerRequest req;
    req.set_action(v1::POWER_ACTION_POWEROFF);
    run(host.send(request_frame(1, "power.Request", req.SerializeAsString())));
    ctx.restart();
    ctx.poll();  // everything that can happen without the host reading
    return host;
  }

  std::shared_ptr<agent::power_service> power;
  int agent_stops = 0;
};

TEST(APowerRequest, IsCarriedOutOnlyOnceItsReplyIsWritten) {
  power_rig r;
  auto host = r.request_poweroff();
  EXPECT_EQ(r.agent_stops, 0);  // the reply does not fit the stream's buffer yet
  const auto reply = r.run(host.next());
  ASSERT_TRUE(reply.has_response()) << reply.ShortDebugString();
  EXPECT_EQ(reply.response().status().code(), v1::ERROR_CODE_OK) << reply.response().status().message();
  r.run_until([&] { return r.agent_stops == 1; });
}

TEST(APowerRequest, IsAbandonedWhenTheAgentStopsBeforeItsReplyIsWritten) {
  power_rig r;
  auto host = r.request_poweroff();
  r.registry.stop_all();
  EXPECT_EQ(r.run(host.next()).response().status().code(), v1::ERROR_CODE_OK);
  r.ctx.restart();
  r.ctx.poll();
  EXPECT_EQ(r.agent_stops, 0);
}

}  // namespace
}  // namespace tether::test
