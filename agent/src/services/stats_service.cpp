#include "services/stats_service.hpp"

namespace tether::agent {
namespace {

using std::chrono::milliseconds;
constexpr std::int64_t ms_ns = 1'000'000;
// A cached sample is good for the rates of a Get when it is this old at most.
constexpr std::int64_t max_cached_age_ns = 10'000 * ms_ns;
// ... and at least this old (CPU counters move in 10 ms ticks).
constexpr std::int64_t min_cached_age_ns = 100 * ms_ns;
// Samples kept for Gets: at least 90 ms apart (a 100 ms subscription with
// jitter still stores each), 16 of them, so 1.4 s or more are covered.
constexpr std::int64_t history_spacing_ns = 90 * ms_ns;
constexpr std::size_t max_history = 16;

}  // namespace

stats_service::stats_service(stats_limits limits, stats_roots roots)
    : limits_(limits), roots_(std::move(roots)) {}

stats_service::~stats_service() = default;

stats_collector& stats_service::collector(const asio::any_io_executor& ex) {
  if (!collector_) collector_ = std::make_unique<stats_collector>(ex, limits_, roots_);
  return *collector_;
}

void stats_service::remember(sample_ptr s) {
  if (!history_.empty() && s->monotonic_ns() - history_.back()->monotonic_ns() < history_spacing_ns) return;
  history_.push_back(std::move(s));
  const auto newest = history_.back()->monotonic_ns();
  while (history_.size() > max_history ||
         newest - history_.front()->monotonic_ns() > max_cached_age_ns)
    history_.pop_front();
}

stats_service::sample_ptr stats_service::earlier_sample(std::int64_t now_ns, std::int64_t min_age_ns) const {
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    const auto age = now_ns - (*it)->monotonic_ns();
    if (age > max_cached_age_ns) break;
    if (age >= min_age_ns) return *it;
  }
  return nullptr;
}

void stats_service::add_methods(service_registry& registry) {
  registry.add_method("stats.Get", [this](call_context& call) { return get(call); });
  registry.add_method("stats.Subscribe", [this](call_context& call) { return subscribe(call); });
}

awaitable<std::string> stats_service::get(call_context& call) {
  const auto req = call.request<v1::StatsGetRequest>();
  if (req.rate_interval_ms() > max_rate_interval_ms)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                     "stats.Get: rate_interval_ms must be at most " + std::to_string(max_rate_interval_ms) +
                         ", got " + std::to_string(req.rate_interval_ms()));
  auto ex = co_await asio::this_coro::executor;
  auto& col = collector(ex);
  const collect_options opts{.include_idle_devices = req.include_idle_devices()};
  const std::int64_t want_ns = std::max<std::int64_t>(req.rate_interval_ms() * ms_ns, min_cached_age_ns);

  auto s = co_await col.collect(opts);
  sample_ptr prev = earlier_sample(s.monotonic_ns(), want_ns);
  if (!prev && req.rate_interval_ms() > 0) {
    // No usable earlier sample: make one.
    prev = std::make_shared<const v1::StatsSample>(std::move(s));
    asio::steady_timer wait(ex, milliseconds(req.rate_interval_ms()));
    co_await wait.async_wait(use_awaitable);
    s = co_await col.collect(opts);
  }
  if (prev) compute_rates(*prev, s);
  fit_sample(s, limits_.max_sample_bytes);
  std::string payload = s.SerializeAsString();
  remember(std::make_shared<const v1::StatsSample>(std::move(s)));
  co_return payload;
}

awaitable<std::string> stats_service::subscribe(call_context& call) {
  const auto req = call.request<v1::StatsSubscribeRequest>();
  const std::uint32_t interval_ms = req.interval_ms() == 0 ? 1000 : req.interval_ms();
  if (interval_ms < min_interval_ms || interval_ms > max_interval_ms)
    throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                     "stats.Subscribe: interval_ms must be from " + std::to_string(min_interval_ms) + " to " +
                         std::to_string(max_interval_ms) + ", got " + std::to_string(interval_ms));
  if (subscriptions_ >= limits_.max_subscriptions)
    throw call_error(v1::ERROR_CODE_RESOURCE_EXHAUSTED,
                     "stats.Subscribe: " + std::to_string(subscriptions_) +
                         " subscriptions are running already (the agent's limit); cancel one first");
  ++subscriptions_;
  struct count_guard {
    std::size_t& n;
    ~count_guard() { --n; }
  } guard{subscriptions_};
  auto ex = co_await asio::this_coro::executor;
  auto& col = collector(ex);
  const collect_options opts{.include_idle_devices = req.include_idle_devices()};
  const milliseconds interval(interval_ms);

  sample_ptr prev;
  std::uint64_t sent = 0, skipped = 0, skipped_total = 0;
  asio::steady_timer timer(ex);
  auto tick = std::chrono::steady_clock::now();
  for (;;) {
    auto s = co_await col.collect(opts);
    if (prev) compute_rates(*prev, s);
    s.set_sequence(sent + 1);
    s.set_skipped(skipped);
    s.set_skipped_total(skipped_total);
    fit_sample(s, limits_.max_sample_bytes);
    std::string payload = s.SerializeAsString();
    // Rates of the next sample are computed against this one even if it is
    // not sent: they always cover one interval.
    prev = std::make_shared<const v1::StatsSample>(std::move(s));
    remember(prev);
    // Never wait for credit: a host that does not keep up gets fresh samples
    // when it is back, and a count of what it missed, not a backlog.
    if (call.try_emit(payload)) {
      ++sent;
      skipped = 0;
      if (req.max_samples() != 0 && sent >= req.max_samples()) break;
    } else {
      ++skipped;
      ++skipped_total;
    }
    // Fixed rate; ticks missed while the agent was held up (a paused VM) are
    // dropped, not fired in a burst.
    const auto now = std::chrono::steady_clock::now();
    tick += interval;
    if (tick <= now) tick += ((now - tick) / interval + 1) * interval;
    timer.expires_at(tick);
    co_await timer.async_wait(use_awaitable);
  }
  v1::StatsSubscribeReply reply;
  reply.set_samples_sent(sent);
  reply.set_samples_skipped(skipped_total);
  co_return reply.SerializeAsString();
}

}  // namespace tether::agent
