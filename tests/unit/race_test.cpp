#include "tether/common/race.hpp"

#include <gtest/gtest.h>

#include "support/async.hpp"

namespace tether {
namespace {

using test::run_for;

awaitable<void> fail_at_once() {
  throw std::runtime_error("failed");
  co_return;
}

awaitable<int> answer_after(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
  co_return 42;
}

TEST(WithDeadline, ReturnsTheResultOfAnOperationThatEndsInTime) {
  asio::io_context ctx;
  EXPECT_EQ(run_for(ctx, with_timeout(answer_after(1ms), 1h)), std::optional<int>(42));
  EXPECT_EQ(run_for(ctx, with_timeout(answer_after(1ms), std::chrono::milliseconds::max())), std::optional<int>(42));
}

TEST(WithDeadline, CancelsTheOperationWhenTheDeadlinePasses) {
  asio::io_context ctx;
  async_event never(ctx.get_executor());
  bool cancelled = false;
  auto waiter = [&]() -> awaitable<void> {
    try {
      co_await never.wait();
    } catch (const boost::system::system_error& e) {
      cancelled = e.code() == asio::error::operation_aborted;
      throw;
    }
  };
  EXPECT_FALSE(run_for(ctx, with_timeout(waiter(), 10ms)));
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(run_for(ctx, with_timeout(answer_after(1h), 10ms)), std::nullopt);
}

TEST(WithDeadline, RethrowsAFailureAtOnceInsteadOfWaitingForTheDeadline) {
  // (Asio's `op || timer` would wait the hour and report the timer.)
  asio::io_context ctx;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(run_for(ctx, with_timeout(fail_at_once(), 1h)), std::runtime_error);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST(WithDeadline, ThrowsOperationAbortedWhenItsCallerIsCancelled) {
  asio::io_context ctx;
  async_event never(ctx.get_executor());
  asio::cancellation_signal stop;
  auto fut = asio::co_spawn(ctx, with_timeout(never.wait(), 1h), asio::bind_cancellation_slot(stop.slot(), asio::use_future));
  ctx.poll();
  stop.emit(asio::cancellation_type::terminal);
  ctx.run_for(10s);
  ASSERT_EQ(fut.wait_for(0s), std::future_status::ready);
  try {
    fut.get();
    ADD_FAILURE() << "not cancelled";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), asio::error::operation_aborted);
  }
}

TEST(WaitUntil, IsTrueOnANotifyAndFalseAtTheDeadline) {
  asio::io_context ctx;
  async_event ev(ctx.get_executor());
  auto notified = asio::co_spawn(ctx, wait_until(ev, deadline_clock::now() + 1h), asio::use_future);
  ctx.poll();  // waiting now
  ev.notify_all();
  ctx.run_for(10s);
  ASSERT_EQ(notified.wait_for(0s), std::future_status::ready);
  EXPECT_TRUE(notified.get());
  EXPECT_FALSE(run_for(ctx, wait_until(ev, deadline_clock::now() + 10ms)));
  EXPECT_FALSE(run_for(ctx, wait_until(ev, deadline_clock::now() - 1s)));
}

awaitable<void> pause(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(use_awaitable);
}

TEST(FirstToEnd, EndsWithTheFirstLoopAndCancelsTheOthers) {
  asio::io_context ctx;
  async_event never(ctx.get_executor());
  int cancelled = 0;
  auto parked = [&]() -> awaitable<void> {
    try {
      co_await never.wait();
    } catch (const boost::system::system_error&) {
      ++cancelled;
      throw;
    }
  };
  // A loop that returns ends the race with no error ...
  EXPECT_EQ(run_for(ctx, first_to_end(parked(), pause(1ms), parked())), nullptr);
  EXPECT_EQ(cancelled, 2);
  // ... one that throws, with its error (not a later one, not a timeout).
  const auto e = run_for(ctx, first_to_end(parked(), fail_at_once()));
  ASSERT_NE(e, nullptr);
  EXPECT_THROW(std::rethrow_exception(e), std::runtime_error);
  EXPECT_EQ(cancelled, 3);
}

}  // namespace
}  // namespace tether
