// One host process, one io_context, one thread: 64 agents at once.
#include <gtest/gtest.h>

#include <set>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "tether/client.hpp"
#include "tether/common/async_event.hpp"

namespace tether {
namespace {

TEST(OneHostProcess, DrivesSixtyFourAgentsConcurrentlyOnOneIoContext) {
  constexpr int agents = 64, calls_each = 20;
  std::vector<std::unique_ptr<test::agent_process>> procs;
  for (int i = 0; i < agents; ++i) procs.push_back(std::make_unique<test::agent_process>());

  asio::io_context ctx(1);
  std::vector<std::unique_ptr<client>> guests;
  for (auto& p : procs)
    guests.push_back(std::make_unique<client>(ctx.get_executor(),
                                              client_options{.socket_path = p->socket_path(), .call_timeout = 30s}));

  int done = 0;
  std::set<std::uint32_t> pids;
  async_event progress(ctx.get_executor());
  auto drive = [&](client& g) -> awaitable<void> {
    auto info = co_await g.info();
    pids.insert(info.agent_pid);
    for (int i = 0; i < calls_each; ++i) {
      auto r = co_await g.ping(std::to_string(i));
      EXPECT_EQ(r.payload, std::to_string(i));
    }
    ++done;
    progress.notify_all();
  };
  test::run_for(ctx, [&]() -> awaitable<void> {
    auto ex = co_await asio::this_coro::executor;
    for (auto& g : guests) asio::co_spawn(ex, drive(*g), asio::detached);
    while (done < agents) co_await progress.wait();
  }(), std::chrono::seconds(60));
  EXPECT_EQ(done, agents);
  EXPECT_EQ(pids.size(), static_cast<std::size_t>(agents));  // really 64 different agents
}

}  // namespace
}  // namespace tether
