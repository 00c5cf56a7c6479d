// tetherctl ping [--count N] [--interval TIME]
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "json_out.hpp"

namespace tetherctl {
namespace {

struct ping_options {
  long long count = 1;
  milliseconds interval{0};
};

struct ping_summary {
  long long count;
  double min_ms, median_ms, max_ms;
};

void print(const ping_summary& s, const global_options& g) {
  if (g.json) {
    json::print(boost::json::object{{"count", s.count},
                                    {"min_ms", s.min_ms},
                                    {"median_ms", s.median_ms},
                                    {"max_ms", s.max_ms}});
    return;
  }
  char line[256];
  std::snprintf(line, sizeof line, "%lld ping(s) to %s: min %.3f ms, median %.3f ms, max %.3f ms\n", s.count,
                g.domain.empty() ? g.socket.c_str() : ("domain " + g.domain).c_str(), s.min_ms, s.median_ms,
                s.max_ms);
  std::cout << line;
}

awaitable<int> run_ping(context& ctx, const ping_options& o) {
  // The first call also connects; do not count the handshake as a round trip.
  co_await ctx.client.connect({ctx.global.timeout});
  std::vector<double> ms;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (long long n = 0; n < o.count; ++n) {
    if (n && o.interval.count()) {
      pause.expires_after(o.interval);
      co_await pause.async_wait(tether::use_awaitable);
    }
    const auto t0 = std::chrono::steady_clock::now();
    co_await ctx.client.ping({}, {ctx.global.timeout});
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  print({o.count, ms.front(), median, ms.back()}, ctx.global);
  co_return exit_ok;
}

}  // namespace

void add_ping(command_table& t) {
  auto o = std::make_shared<ping_options>();
  auto* app = t.add("ping", "round-trip time to the agent: min/median/max",
                    [o](context& c) { return run_ping(c, *o); });
  app->add_option("--count", o->count, "round trips (default 1)")->check(in_range(1LL, 1'000'000LL))->type_name("N");
  add_duration(app, "--interval", o->interval, "pause between round trips (bare number: milliseconds; default 0)",
               {.bare_unit = milliseconds(1), .min = milliseconds(0), .max = std::chrono::hours(1)});
}

}  // namespace tetherctl
