// The guest's CPU, memory, load, pressure, disk, filesystem and network
// statistics: one snapshot, or samples pushed by the agent at an interval.
//
//   auto s = co_await tether::stats::get(guest, {.rate_interval = 250ms});
//   double cpu = s.cpu().total().percent().busy();
//
//   auto sub = co_await tether::stats::subscribe(guest, 100ms);
//   for (;;) {
//     auto sample = co_await sub.next();   // nullopt: subscription ended
//     if (!sample) break;
//     ...
//   }
//
// Samples are tether::v1::StatsSample (proto/tether/v1/stats.proto, which
// documents every field). A subscriber that reads slowly is not sent a
// backlog: the agent skips samples while the host grants no event credit and
// reports how many in the next sample (StatsSample.skipped).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <boost/asio/awaitable.hpp>

#include "tether/client.hpp"
#include "tether/v1/stats.pb.h"

namespace tether::stats {

// Accepted subscription intervals.
inline constexpr milliseconds min_interval{50};
inline constexpr milliseconds max_interval{3'600'000};
// Longest get_options::rate_interval.
inline constexpr milliseconds max_rate_interval{10'000};

struct get_options {
  // 0: rates (CPU %, bytes/s) only if the agent has a sample between 100 ms
  // and 10 s old (e.g. from a running subscription), otherwise unset. > 0:
  // rates always set, covering at least this long (the agent samples twice
  // this far apart when it has no usable earlier sample).
  milliseconds rate_interval{0};
  // Also list idle ram/loop/zram/nbd block devices.
  bool include_idle_devices = false;
  // Deadline of the call (covers rate_interval).
  call_options call{};
};

// One sample. Throws tether::error (invalid_argument for a rate_interval out
// of range; remote errors; connectivity).
boost::asio::awaitable<v1::StatsSample> get(client& guest, get_options opts = {});

struct subscribe_options {
  // As in get_options.
  bool include_idle_devices = false;
  // End after this many samples (0: until cancelled or dropped).
  std::uint32_t max_samples = 0;
  // When the connection to the agent is lost (agent restarted, guest
  // rebooted, socket re-plugged), subscribe again and go on; the first
  // sample after that has no rates. Otherwise next() throws.
  bool auto_resume = false;
  // Deadline for (re)connecting to the agent. 0: the client's call_timeout.
  milliseconds start_timeout{0};
};

// A running stats.Subscribe call. Move-only; destroying it ends the call.
class subscription {
 public:
  subscription(client& guest, milliseconds interval, subscribe_options opts);
  ~subscription();
  subscription(subscription&&) noexcept;
  subscription& operator=(subscription&&) = delete;

  // The next sample; nullopt once the subscription ended normally (after
  // max_samples, or after cancel()). Throws tether::error on failure.
  boost::asio::awaitable<std::optional<v1::StatsSample>> next();

  // Asks the agent to end the call; next() then returns nullopt.
  void cancel();

  milliseconds interval() const noexcept { return interval_; }
  // Samples returned by next() so far.
  std::uint64_t samples_received() const noexcept { return received_; }
  // Samples the agent skipped (the reader was behind), as reported so far.
  std::uint64_t samples_skipped() const noexcept { return skipped_; }
  // Times the call was re-established after a lost connection.
  std::uint32_t resumes() const noexcept { return resumes_; }

  // Starts the call (subscribe() does this). Throws tether::error.
  boost::asio::awaitable<void> open();

 private:
  client* guest_;
  milliseconds interval_;
  subscribe_options opts_;
  std::unique_ptr<call_stream> stream_;
  std::uint64_t received_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint32_t resumes_ = 0;
  bool cancelled_ = false;
  bool ended_ = false;
};

// Starts a subscription: one sample now, then one every `interval` (50 ms
// to 1 h). Throws tether::error (invalid_argument for an interval out of
// range; connectivity).
boost::asio::awaitable<subscription> subscribe(client& guest, milliseconds interval,
                                               subscribe_options opts = {});

}  // namespace tether::stats
