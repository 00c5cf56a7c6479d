#include "services/stats_collector.hpp"

#include <ctime>

namespace tether::agent {

using clock = std::chrono::steady_clock;

namespace {

std::int64_t now_ns(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

stats_collector::stats_collector(asio::any_io_executor ex, stats_limits limits, stats_roots r)
    : proc_(r, limits), network_(r, limits), filesystems_(std::move(ex), r, limits) {}

stats_collector::~stats_collector() = default;

std::size_t stats_collector::proc_syscalls() const {
  return proc_.syscalls() + network_.syscalls() + filesystems_.syscalls();
}

awaitable<v1::StatsSample> stats_collector::collect(collect_options opts) {
  const auto t0 = clock::now();
  v1::StatsSample s;
  s.set_realtime_ns(now_ns(CLOCK_REALTIME));
  s.set_monotonic_ns(now_ns(CLOCK_MONOTONIC));
  proc_.read(s, opts);
  network_.read(s);
  co_await filesystems_.read(s);
  s.set_collect_ns(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - t0).count()));
  co_return s;
}

}  // namespace tether::agent
