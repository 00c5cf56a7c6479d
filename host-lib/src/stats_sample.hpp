// tether.v1.StatsSample to the public tether::stats::sample.
#pragma once

#include "tether/stats.hpp"
#include "tether/v1/stats.pb.h"

namespace tether::stats::detail {

sample to_sample(const v1::StatsSample& s);

}  // namespace tether::stats::detail
