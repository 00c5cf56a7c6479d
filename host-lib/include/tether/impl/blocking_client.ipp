#pragma once

#include <chrono>
#include <future>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

namespace tether {

template <class T>
T blocking_client::run(boost::asio::awaitable<T> op) {
  auto fut = boost::asio::co_spawn(ctx_, std::move(op), boost::asio::use_future);
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (ctx_.stopped()) ctx_.restart();
    ctx_.run_one();
  }
  return fut.get();
}

}  // namespace tether
