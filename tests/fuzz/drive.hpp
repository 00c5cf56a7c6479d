// Running one fuzz input's coroutines on an io_context: settle (run what is
// ready, without waiting for timers) between steps, and finish (everything
// must end within a bound once the peer is gone; a hang is a finding).
#pragma once

#include <chrono>

#include "check.hpp"
#include "tether/common/asio.hpp"

namespace tether::fuzz {

// Runs handlers until none is ready (timers not yet due are left alone).
inline void settle(asio::io_context& ctx) {
  if (ctx.stopped()) ctx.restart();
  while (ctx.poll() > 0) {
    if (ctx.stopped()) ctx.restart();
  }
}

// Runs handlers until `done()`; a coroutine that does not end once its peer
// is gone is a bug (the limit is generous: sanitizers are slow).
template <class Done>
void finish(asio::io_context& ctx, Done done, const char* what) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    check(std::chrono::steady_clock::now() < limit, what);
    if (ctx.stopped()) ctx.restart();
    ctx.run_one_for(std::chrono::milliseconds(50));
  }
}

}  // namespace tether::fuzz
