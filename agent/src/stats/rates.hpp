// Rates between two stats samples, and fitting a sample into a frame.
#pragma once

#include <cstddef>

#include "tether/v1/stats.pb.h"

namespace tether::agent {

// Sets the rates of `cur` (CPU percentages, per-second values, interval_ns)
// from the counters of `prev`, an earlier sample. CPUs are matched by
// number, disks and interfaces by name; entries without a match, and all
// rates when no time passed, stay unset. A counter that went backwards
// counts as no change.
void compute_rates(const v1::StatsSample& prev, v1::StatsSample& cur);

// Shrinks `s` below `max_bytes` serialized (see stats_limits).
void fit_sample(v1::StatsSample& s, std::size_t max_bytes);

}  // namespace tether::agent
