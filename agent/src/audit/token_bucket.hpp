// A token bucket: up to `burst` events at once, then `per_second` on
// average. The clock is the caller's (time points passed in), so tests
// drive it without sleeping.
#pragma once

#include <chrono>

namespace tether::agent::audit {

class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  token_bucket(double burst, double per_second, clock::time_point now)
      : burst_(burst), rate_(per_second), tokens_(burst), last_(now) {}

  // Takes one token if there is one at `now`.
  bool take(clock::time_point now);

 private:
  double burst_, rate_, tokens_;
  clock::time_point last_;
};

}  // namespace tether::agent::audit
