#pragma once

#include <chrono>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

namespace tether {
namespace detail {

// Runs `op` on `ctx` (from this thread) until it completes.
template <class T>
T run_blocking(boost::asio::io_context& ctx, boost::asio::awaitable<T> op) {
  auto fut = boost::asio::co_spawn(ctx, std::move(op), boost::asio::use_future);
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (ctx.stopped()) ctx.restart();
    ctx.run_one();
  }
  return fut.get();
}

}  // namespace detail

template <class T>
T blocking_client::run(boost::asio::awaitable<T> op) {
  return detail::run_blocking(ctx_, std::move(op));
}

}  // namespace tether
