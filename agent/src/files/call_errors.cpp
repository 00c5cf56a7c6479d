#include "files/call_errors.hpp"

#include <cstring>

namespace tether::agent::files {

void fail_errno(int err, const std::string& what) {
  throw call_error(error_code_from_errno(err), what + ": " + std::strerror(err));
}

checksum_kind checksum_from(v1::Checksum c) {
  if (const auto kind = checksum_kind_from(c)) return *kind;
  throw call_error(v1::ERROR_CODE_INVALID_ARGUMENT,
                   "unknown checksum " + std::to_string(static_cast<int>(c)) + " (this agent knows sha256, xxh64, xxh3)");
}

}  // namespace tether::agent::files
