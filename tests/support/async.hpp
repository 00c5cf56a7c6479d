// Runs a coroutine on an io_context to completion for a test, with a hard
// limit so a hang fails the test instead of blocking CI.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <vector>

#include "tether/common/asio.hpp"
#include "tether/error.hpp"

namespace tether::test {

template <class T>
T run_for(asio::io_context& ctx, awaitable<T> op, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto fut = asio::co_spawn(ctx, std::move(op), asio::use_future);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("test coroutine did not finish within its limit");
    if (ctx.stopped()) ctx.restart();
    ctx.run_one_for(std::chrono::milliseconds(100));
  }
  return fut.get();
}

// Runs `op`, which must fail with a tether::error, and returns that error for
// the test to check. If `op` succeeds, the test fails, naming `what`.
template <class T>
error error_of(asio::io_context& ctx, awaitable<T> op, const std::string& what = "the call") {
  try {
    run_for(ctx, std::move(op));
  } catch (const error& e) {
    return e;
  }
  ADD_FAILURE() << what << " succeeded; expected an error";
  return error(errc::protocol_error, what + " succeeded");
}

// Runs the call `op()` makes until it succeeds, at most `attempts` times:
// calls racing an agent restart may fail, each with a connectivity error.
// Returns the errors seen before it worked.
template <class F>
std::vector<error> until_it_works(asio::io_context& ctx, F op, int attempts = 5,
                                  std::chrono::seconds limit = std::chrono::seconds(30)) {
  std::vector<error> seen;
  for (int i = 0; i < attempts; ++i) {
    try {
      run_for(ctx, op(), limit);
      return seen;
    } catch (const error& e) {
      EXPECT_TRUE(e.is_connectivity()) << e.what();
      seen.push_back(e);
    }
  }
  ADD_FAILURE() << "still failing after " << attempts << " attempts; last: " << seen.back().what();
  return seen;
}

}  // namespace tether::test
