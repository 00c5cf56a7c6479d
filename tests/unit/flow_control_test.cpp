#include "tether/common/flow_control.hpp"

#include <gtest/gtest.h>

namespace tether {
namespace {

TEST(RecvWindow, RefusesBytesBeyondTheGrantedCredit) {
  recv_window w(1000);
  EXPECT_TRUE(w.on_arrival(600));
  EXPECT_TRUE(w.on_arrival(400));
  EXPECT_FALSE(w.on_arrival(1));
}

TEST(RecvWindow, GrantsCreditInBatchesAsTheConsumerReads) {
  recv_window w(1000);
  ASSERT_TRUE(w.on_arrival(1000));
  EXPECT_FALSE(w.on_consumed(100).has_value());  // under a quarter window
  auto g = w.on_consumed(200);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(*g, 300u);
  EXPECT_TRUE(w.on_arrival(300));
  EXPECT_FALSE(w.on_arrival(1));
}

TEST(SendWindow, WaitsForCreditAndResumesWhenGranted) {
  asio::io_context ctx;
  send_window w(ctx.get_executor(), 10);
  std::vector<std::size_t> got;
  asio::co_spawn(ctx, [&]() -> awaitable<void> {
    got.push_back(co_await w.acquire(8));
    got.push_back(co_await w.acquire(8));  // only 2 left
    got.push_back(co_await w.acquire(8));  // waits for the grant
  }, asio::detached);
  ctx.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(got, (std::vector<std::size_t>{8, 2}));
  w.grant(5);
  ctx.restart();
  ctx.run();
  EXPECT_EQ(got, (std::vector<std::size_t>{8, 2, 5}));
}

TEST(SendWindow, CloseFailsAWaitingSender) {
  asio::io_context ctx;
  send_window w(ctx.get_executor(), 0);
  bool aborted = false;
  asio::co_spawn(ctx, [&]() -> awaitable<void> {
    try {
      co_await w.acquire(1);
    } catch (const boost::system::system_error& e) {
      aborted = e.code() == asio::error::operation_aborted;
    }
  }, asio::detached);
  ctx.poll();
  w.close();
  ctx.run();
  EXPECT_TRUE(aborted);
}

TEST(SendWindow, TryAcquireNeverWaits) {
  asio::io_context ctx;
  send_window w(ctx.get_executor(), 3);
  EXPECT_EQ(w.try_acquire(5), 3u);
  EXPECT_EQ(w.try_acquire(5), 0u);
}

TEST(SendWindow, SaturatesHostileGrants) {
  asio::io_context ctx;
  send_window w(ctx.get_executor(), 0);
  for (int i = 0; i < 100; ++i) w.grant(UINT64_MAX);
  EXPECT_GT(w.credit(), 0u);
  EXPECT_LE(w.credit(), UINT64_MAX / 2);
}

}  // namespace
}  // namespace tether
