#include "audit/token_bucket.hpp"

#include <algorithm>

namespace tether::agent::audit {

bool token_bucket::take(clock::time_point now) {
  if (now > last_) {
    const std::chrono::duration<double> elapsed = now - last_;
    tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
    last_ = now;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace tether::agent::audit
