// Host disconnects with calls in flight, and reconnection.
#include <gtest/gtest.h>

#include <csignal>
#include <set>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "support/socket_proxy.hpp"
#include "tether/client.hpp"
#include "tether/common/async_event.hpp"

namespace tether {
namespace {

using test::run_for;

// A client that reaches the agent through a relay the test can cut or hold.
class AClientBehindARelay : public ::testing::Test {
 protected:
  test::agent_process agent;
  asio::io_context ctx;
  const std::string relay_path = agent.dir() + "/relay.sock";
  test::socket_proxy relay{ctx, relay_path, agent.socket_path()};
  client guest{ctx.get_executor(), {.socket_path = relay_path, .call_timeout = 10s}};
};

TEST_F(AClientBehindARelay, FailsEveryCallInFlightClearlyWhenCutAndThenWorksAgain) {
  run_for(ctx, guest.ping("warm-up"));
  relay.hold_replies(true);  // calls reach the agent, answers never come back

  constexpr int n = 50;
  int failed = 0;
  std::vector<std::string> messages;
  async_event progress(ctx.get_executor());
  auto one = [&]() -> awaitable<void> {
    try {
      co_await guest.ping("in-flight");
      ADD_FAILURE() << "a held call succeeded";
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::connection_lost);
      messages.push_back(e.what());
      ++failed;
    }
    progress.notify_all();
  };
  run_for(ctx, [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < n; ++i) asio::co_spawn(ex, one(), asio::detached);
    // One trip through the (single-threaded, FIFO) executor: every spawned
    // call has run up to sending its request and waits for the answer.
    co_await asio::post(ex, use_awaitable);
    EXPECT_EQ(failed, 0);
    relay.cut();
    while (failed < n) co_await progress.wait();
  }());
  EXPECT_EQ(failed, n);
  EXPECT_NE(messages.front().find("connection to the agent"), std::string::npos) << messages.front();

  relay.hold_replies(false);
  auto r = run_for(ctx, guest.ping("after"));
  EXPECT_EQ(r.payload, "after");
  EXPECT_EQ(relay.connections(), 2);
}

TEST(AClient, ReconnectsWhenTheAgentRestartsOnTheSameSocket) {
  test::agent_process agent;
  const std::string path = agent.socket_path();
  asio::io_context ctx;
  client guest(ctx.get_executor(), {.socket_path = path, .call_timeout = 10s});
  const auto first = run_for(ctx, guest.info());
  agent.stop(SIGTERM);  // its directory stays until the object goes
  test::agent_process second{{"--listen-unix", path}};
  bool changed = false;
  for (int attempt = 0; attempt < 3 && !changed; ++attempt) {
    try {
      auto now = run_for(ctx, guest.info());
      changed = now.agent_pid != first.agent_pid;
    } catch (const error& e) {
      EXPECT_EQ(e.code(), errc::connection_lost);  // the call racing the restart
    }
  }
  EXPECT_TRUE(changed);
}

TEST_F(AClientBehindARelay, SurvivesTwentyDisconnectsInARow) {
  std::set<std::string> sessions;
  for (int i = 0; i < 20; ++i) {
    auto r = run_for(ctx, guest.info());
    sessions.insert(r.session_id);
    relay.cut();
    // Wait until the client has seen the cut; a call sent before that would
    // rightly fail with connection_lost.
    while (guest.connected()) ctx.run_one();
  }
  EXPECT_EQ(sessions.size(), 20u);
}

}  // namespace
}  // namespace tether
