// Service "stats": stats.Get (one sample) and stats.Subscribe (a sample
// pushed every interval as an event). See proto/tether/v1/stats.proto.
#pragma once

#include <deque>
#include <memory>
#include <optional>

#include "services/stats_collector.hpp"
#include "tether/agent/service.hpp"

namespace tether::agent {

class stats_service final : public service {
 public:
  // Accepted subscription intervals, in ms.
  static constexpr std::uint32_t min_interval_ms = 50;
  static constexpr std::uint32_t max_interval_ms = 3'600'000;
  static constexpr std::uint32_t max_rate_interval_ms = 10'000;

  explicit stats_service(stats_limits limits = {}, stats_roots roots = {});
  ~stats_service() override;

  std::string_view name() const override { return "stats"; }
  void add_methods(service_registry& registry) override;

 private:
  awaitable<std::string> get(call_context& call);
  awaitable<std::string> subscribe(call_context& call);
  // The collector, created on first use on the calling executor; shared by
  // all calls so /proc descriptors and the statvfs worker exist once.
  stats_collector& collector(const asio::any_io_executor& ex);
  using sample_ptr = std::shared_ptr<const v1::StatsSample>;
  // Keeps `s` for the rates of later Gets.
  void remember(sample_ptr s);
  // The newest kept sample between min_age_ns and 10 s older than `now_ns`.
  sample_ptr earlier_sample(std::int64_t now_ns, std::int64_t min_age_ns) const;

  stats_limits limits_;
  stats_roots roots_;
  std::unique_ptr<stats_collector> collector_;
  // Recent samples (of any call), oldest first, at least 90 ms apart, so a
  // Get finds one old enough for meaningful rates even while a fast
  // subscription keeps refreshing the newest.
  std::deque<sample_ptr> history_;
  std::size_t subscriptions_ = 0;
};

}  // namespace tether::agent
