#include "tether/stats.hpp"

#include <string>

#include "stats_sample.hpp"
#include "typed_call.hpp"

namespace tether::stats {

using boost::asio::awaitable;

awaitable<sample> get(client& guest, get_options opts, call_options call) {
  if (opts.rate_interval.count() < 0 || opts.rate_interval > max_rate_interval)
    throw error(errc::invalid_argument, "stats::get: rate_interval must be from 0 to " +
                                            std::to_string(max_rate_interval.count()) + " ms, got " +
                                            std::to_string(opts.rate_interval.count()) + " ms");
  v1::StatsGetRequest req;
  req.set_rate_interval_ms(static_cast<std::uint32_t>(opts.rate_interval.count()));
  req.set_include_idle_devices(opts.include_idle_devices);
  co_return detail::to_sample(co_await tether::detail::call<v1::StatsSample>(guest, "stats.Get", req, call));
}

subscription::subscription(client& guest, subscribe_options opts, call_options call)
    : guest_(&guest), opts_(opts), call_(call) {
  const auto interval = opts.interval;
  if (interval < min_interval || interval > max_interval)
    throw error(errc::invalid_argument, "stats::subscribe: interval must be from " +
                                            std::to_string(min_interval.count()) + " to " +
                                            std::to_string(max_interval.count()) + " ms, got " +
                                            std::to_string(interval.count()) + " ms");
}

subscription::~subscription() = default;  // call_stream's destructor cancels a running call
subscription::subscription(subscription&&) noexcept = default;

awaitable<void> subscription::open() {
  v1::StatsSubscribeRequest req;
  req.set_interval_ms(static_cast<std::uint32_t>(opts_.interval.count()));
  req.set_include_idle_devices(opts_.include_idle_devices);
  if (opts_.max_samples != 0) {
    // After a resume, only what is still owed.
    const auto left = opts_.max_samples > received_ ? opts_.max_samples - received_ : 0;
    if (left == 0) {
      ended_ = true;
      co_return;
    }
    req.set_max_samples(static_cast<std::uint32_t>(left));
  }
  // Bounded wait for the connection, then no deadline: the call runs until
  // it is cancelled or ends by itself.
  co_await guest_->connect(call_);
  stream_ = co_await guest_->start("stats.Subscribe", req.SerializeAsString(), {milliseconds::max()});
  if (cancelled_) stream_->cancel();  // cancel() came while (re)connecting, before there was a call
}

void subscription::cancel() {
  cancelled_ = true;
  if (stream_) stream_->cancel();
}

// GCC 12 inlines this coroutine's frame allocation (Asio's recycling
// allocator) next to the frame's operator delete and wrongly reports a
// mismatch (as in tests/loopback/stats_test.cpp); the pair is Asio's own.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
awaitable<std::optional<sample>> subscription::next() {
  for (;;) {
    if (ended_ || !stream_) co_return std::nullopt;
    auto item = co_await stream_->next();
    if (!item) {
      // The call ended: by itself (max_samples), by cancel(), or by failure.
      std::string reply;
      std::optional<error> failure;
      try {
        reply = co_await stream_->finish();
      } catch (const error& e) {
        failure = e;
      }
      stream_.reset();
      if (!failure) {
        ended_ = true;
        co_return std::nullopt;
      }
      if (cancelled_ && (failure->remote_code() == remote_errc::cancelled ||
                         failure->code() == make_error_code(errc::cancelled))) {
        ended_ = true;
        co_return std::nullopt;
      }
      if (opts_.auto_resume && !cancelled_ && failure->code() == make_error_code(errc::connection_lost)) {
        ++resumes_;
        try {
          co_await open();
        } catch (const error&) {
          if (!cancelled_) throw;
          ended_ = true;  // cancel() during the resume: ended as asked
          co_return std::nullopt;
        }
        continue;
      }
      ended_ = true;
      throw *failure;
    }
    if (item->what != call_stream::chunk::kind::event) continue;
    v1::StatsSample s;
    if (!s.ParseFromString(item->bytes)) {
      stream_->cancel();
      throw error(errc::protocol_error, "stats.Subscribe: agent sent an event that is not a StatsSample");
    }
    ++received_;
    skipped_ += s.skipped();
    co_return detail::to_sample(s);
  }
}
#pragma GCC diagnostic pop

awaitable<subscription> subscribe(client& guest, subscribe_options opts, call_options call) {
  subscription sub(guest, opts, call);
  co_await sub.open();
  co_return sub;
}

}  // namespace tether::stats
