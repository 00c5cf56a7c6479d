// A wake-up signal for coroutines on one executor: waiters re-check their
// condition after every notify_all(). Built on a timer that never expires, as
// in Asio's chat_server example.
#pragma once

#include "tether/common/asio.hpp"

namespace tether {

class async_event {
 public:
  explicit async_event(const asio::any_io_executor& ex)
      : timer_(ex, asio::steady_timer::time_point::max()) {}

  // Wakes every coroutine currently in wait().
  void notify_all() { timer_.cancel(); }

  // Returns after the next notify_all(). Throws operation_aborted if the
  // waiting coroutine itself was cancelled, so loops around it end.
  awaitable<void> wait() {
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
      throw boost::system::system_error(asio::error::operation_aborted);
  }

 private:
  asio::steady_timer timer_;
};

}  // namespace tether
