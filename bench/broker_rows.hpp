// Through the broker (tetherd) vs straight on the guest's chardev, in the
// same rounds: what a client pays for sharing the guest.
#pragma once

#include <string>
#include <vector>

#include "bench_table.hpp"

namespace tether::bench {

// `chardev`: the guest's tether socket, free (no other client holds it).
std::vector<row> broker_rows(const std::string& chardev, int rounds);

}  // namespace tether::bench
