// The load run, short: 64 loopback agents for 5 s of mixed calls from one
// host process (tests/support/load_driver.hpp). No call may fail, and the
// host's memory and descriptors, and the agents' memory, may not grow from
// warm-up to the end beyond a generous bound. No timings are asserted; the
// 60 s, 256-agent run with its latencies is bench/tether_load.cpp.
#include <gtest/gtest.h>

#include "support/load_driver.hpp"
#include "support/sanitizers.hpp"

namespace tether {
namespace {

TEST(Load, SixtyFourAgentsOfMixedCallsFailNothingAndDoNotGrow) {
  const auto r = test::run_load({.agents = 64, .duration = std::chrono::seconds(5), .warmup = std::chrono::seconds(2)});
  EXPECT_EQ(r.failures, 0u) << (r.first_failures.empty() ? "" : r.first_failures.front());
  EXPECT_GT(r.pings, 0u);
  EXPECT_GT(r.execs, 0u);
  EXPECT_GT(r.uploads, 0u);
  EXPECT_GT(r.events, 0u);
  // Descriptors: the same set of connections at both points; a few for calls in flight.
  EXPECT_LE(r.fds_end, r.fds_warm + 16) << "host descriptors grew from " << r.fds_warm << " to " << r.fds_end;
  // Memory: allocator noise, not per-call growth (thousands of calls ran in between).
  if (test::memory_figures_mean_something) {
    EXPECT_LE(r.rss_kib_end, r.rss_kib_warm + 16 * 1024)
        << "host VmRSS grew from " << r.rss_kib_warm << " to " << r.rss_kib_end << " KiB";
    EXPECT_LE(r.agents_rss_kib_end, r.agents_rss_kib_warm + 64 * 256)
        << "the agents' VmRSS grew from " << r.agents_rss_kib_warm << " to " << r.agents_rss_kib_end << " KiB";
  }
}

}  // namespace
}  // namespace tether
