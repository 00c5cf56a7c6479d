// Racing concurrent operations, the one way the project does it: an
// operation against a deadline (with_deadline, with_timeout, wait_until), or
// a connection's loops against each other (first_to_end).
//
// Why not Asio's awaitable operator `||` directly: it waits for the first
// branch to *succeed*. When the operation throws, `op || timer` silently
// waits for the timer and reports a timeout; when both branches fail (the
// caller was cancelled) it throws asio::multiple_exceptions, not
// operation_aborted. These helpers end at the first completion of either
// side and keep its outcome.
//
// with_deadline(op, deadline):
//   - the operation finished first: its result (or its exception, rethrown);
//   - the deadline passed first: the operation is cancelled (terminal), its
//     end awaited, and the result is "timed out" (false / nullopt);
//   - the awaiting coroutine itself is cancelled: operation_aborted is thrown.
//   time_point::max() means no deadline (the operation is simply awaited).
//
//   if (!co_await with_timeout(proc.wait_exit(), 5s)) proc.kill();
//   if (!co_await wait_until(changed, deadline)) throw timeout_error(...);
//
// first_to_end(a, b, ...): runs loops until the first one ends, by returning
// or by throwing; cancels the others and waits for them; returns what the
// first one threw (nullptr if it returned).
#pragma once

#include <array>
#include <chrono>
#include <exception>
#include <optional>
#include <tuple>

#include "tether/common/asio.hpp"
#include "tether/common/async_event.hpp"

// After Asio itself: the header is not self-contained.
#include <boost/asio/experimental/parallel_group.hpp>

namespace tether {

using deadline_clock = std::chrono::steady_clock;

namespace detail {
// Timer expiry that tells "deadline passed" from "we were cancelled".
inline void throw_if_aborted(const boost::system::error_code& ec) {
  if (ec) throw boost::system::system_error(ec);
}
}  // namespace detail

// void operation: true if it completed in time, false if the deadline passed.
inline awaitable<bool> with_deadline(awaitable<void> op, deadline_clock::time_point deadline) {
  if (deadline == deadline_clock::time_point::max()) {
    co_await std::move(op);
    co_return true;
  }
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex, deadline);
  auto [order, op_error, timer_ec] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(op), asio::deferred),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::deferred);
  if (order[0] == 1 && op_error) {
    // Deadline (or our own cancellation) first; the op ended because of it.
    detail::throw_if_aborted(timer_ec);
    co_return false;
  }
  if (op_error) std::rethrow_exception(op_error);
  co_return true;
}

// Operation with a result: the result, or nullopt if the deadline passed.
template <class T>
awaitable<std::optional<T>> with_deadline(awaitable<T> op, deadline_clock::time_point deadline) {
  if (deadline == deadline_clock::time_point::max()) co_return co_await std::move(op);
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer timer(ex, deadline);
  auto [order, op_error, value, timer_ec] =
      co_await asio::experimental::make_parallel_group(asio::co_spawn(ex, std::move(op), asio::deferred),
                                                       timer.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::deferred);
  if (order[0] == 1 && op_error) {
    detail::throw_if_aborted(timer_ec);
    co_return std::nullopt;
  }
  if (op_error) std::rethrow_exception(op_error);
  co_return std::optional<T>(std::move(value));
}

// A timeout too long to represent (e.g. milliseconds::max()) means none.
template <class Op, class Rep, class Period>
auto with_timeout(Op op, std::chrono::duration<Rep, Period> timeout) {
  const auto now = deadline_clock::now();
  // Compared in the timeout's unit: in nanoseconds, milliseconds::max() overflows.
  const auto room = std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(deadline_clock::time_point::max() - now);
  return with_deadline(std::move(op), timeout >= room ? deadline_clock::time_point::max()
                                                      : now + std::chrono::duration_cast<deadline_clock::duration>(timeout));
}

// Waits for the next notify_all() of `ev`; false if the deadline came first.
inline awaitable<bool> wait_until(async_event& ev, deadline_clock::time_point deadline) {
  if (deadline <= deadline_clock::now()) co_return false;
  co_return co_await with_deadline(ev.wait(), deadline);
}

template <class... More>
awaitable<std::exception_ptr> first_to_end(awaitable<void> first, awaitable<void> second, More... more) {
  auto ex = co_await asio::this_coro::executor;
  auto ended = co_await asio::experimental::make_parallel_group(
                   asio::co_spawn(ex, std::move(first), asio::deferred),
                   asio::co_spawn(ex, std::move(second), asio::deferred),
                   asio::co_spawn(ex, std::move(more), asio::deferred)...)
                   .async_wait(asio::experimental::wait_for_one(), asio::deferred);
  co_return std::apply(
      [](const auto& order, const auto&... errors) {
        const std::array<std::exception_ptr, sizeof...(errors)> all{errors...};
        return all[order[0]];
      },
      ended);
}

}  // namespace tether
