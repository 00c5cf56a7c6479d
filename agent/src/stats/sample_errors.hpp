// How a stats reader reports a part it could not read: as a line in the
// sample's errors, the rest of the sample still sent.
#pragma once

#include <string>
#include <system_error>

#include "tether/v1/stats.pb.h"

namespace tether::agent {

inline void add_error(v1::StatsSample& s, const std::string& what, const std::error_code& ec) {
  s.add_errors(what + ": " + ec.message());
}

}  // namespace tether::agent
