// tetherctl ping [--count N] [--interval MS]
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli.hpp"

namespace tetherctl {
namespace {

awaitable<int> run_ping(context& ctx) {
  long long count = 1, interval_ms = 0;
  for (std::size_t i = 0; i < ctx.args.size(); ++i) {
    if (is_flag(ctx.args[i], "--count")) count = parse_int("--count", flag_value(ctx.args, i), 1, 1'000'000);
    else if (is_flag(ctx.args[i], "--interval")) interval_ms = parse_int("--interval", flag_value(ctx.args, i), 0, 3'600'000);
    else throw usage_error("ping: unexpected argument '" + ctx.args[i] + "'");
  }
  // The first call also connects; do not count the handshake as a round trip.
  co_await ctx.client.connect({ctx.global.timeout});
  std::vector<double> ms;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (long long n = 0; n < count; ++n) {
    if (n && interval_ms) {
      pause.expires_after(std::chrono::milliseconds(interval_ms));
      co_await pause.async_wait(tether::use_awaitable);
    }
    const auto t0 = std::chrono::steady_clock::now();
    co_await ctx.client.ping({}, {ctx.global.timeout});
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                          : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
  char line[256];
  if (ctx.global.json) {
    std::snprintf(line, sizeof line,
                  "{\"count\":%lld,\"min_ms\":%.3f,\"median_ms\":%.3f,\"max_ms\":%.3f}\n", count,
                  sorted.front(), median, sorted.back());
  } else {
    std::snprintf(line, sizeof line, "%lld ping(s) to %s: min %.3f ms, median %.3f ms, max %.3f ms\n",
                  count, ctx.global.socket.c_str(), sorted.front(), median, sorted.back());
  }
  std::cout << line;
  co_return exit_ok;
}

const register_command reg{{"ping", "ping [--count N] [--interval MS]   round-trip time min/median/max", run_ping}};

}  // namespace
}  // namespace tetherctl
