// Errors the file calls answer with: an errno as its wire code, and a
// checksum the agent does not know.
#pragma once

#include <string>

#include "tether/agent/service.hpp"
#include "tether/common/checksum.hpp"
#include "tether/v1/files.pb.h"

namespace tether::agent::files {

// Throws call_error with the errno's wire code and "WHAT: strerror".
[[noreturn]] void fail_errno(int err, const std::string& what);

// The checksum a request names; INVALID_ARGUMENT for one this agent lacks.
checksum_kind checksum_from(v1::Checksum c);

}  // namespace tether::agent::files
