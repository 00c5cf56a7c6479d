// Error codes of the framing layer, and the category for the wire's
// tether.v1.ErrorCode so remote errors travel as std::error_code.
#pragma once

#include <string>
#include <system_error>

#include "tether/v1/frame.pb.h"

namespace tether::wire {

enum class codec_error {
  bad_frame_magic = 1,   // bytes at a frame boundary are not a frame header
  frame_too_large,       // declared length exceeds the receiver's maximum
  malformed_frame,       // payload is not a valid tether.v1.Frame
};

const std::error_category& codec_category() noexcept;
inline std::error_code make_error_code(codec_error e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

// Category whose values are tether.v1.ErrorCode: errors reported by the peer.
const std::error_category& remote_category() noexcept;
inline std::error_code make_error_code(v1::ErrorCode e) noexcept {
  return {static_cast<int>(e), remote_category()};
}

// Short stable name of a wire error code, e.g. "NOT_FOUND".
std::string error_code_name(v1::ErrorCode code);

}  // namespace tether::wire

template <>
struct std::is_error_code_enum<tether::wire::codec_error> : std::true_type {};
