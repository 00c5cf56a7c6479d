// Runs one coroutine on the benchmark's io_context to completion (no time
// limit: the benchmark measures, a hang shows as one).
#pragma once

#include <future>

#include "tether/common/asio.hpp"

namespace tether::bench {

template <class T>
T run(asio::io_context& ctx, awaitable<T> op) {
  auto fut = asio::co_spawn(ctx, std::move(op), asio::use_future);
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (ctx.stopped()) ctx.restart();
    ctx.run_one();
  }
  return fut.get();
}

}  // namespace tether::bench
