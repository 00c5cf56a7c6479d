#include "tether/wire/error.hpp"

namespace tether::wire {
namespace {

class codec_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tether.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<codec_error>(ev)) {
      case codec_error::bad_frame_magic:
        return "bytes at a frame boundary are not a tether frame header";
      case codec_error::frame_too_large:
        return "frame larger than the receiver's maximum frame size";
      case codec_error::malformed_frame:
        return "frame payload is not a valid tether.v1.Frame";
    }
    return "unknown codec error";
  }
};

class remote_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tether.remote"; }
  std::string message(int ev) const override {
    switch (static_cast<v1::ErrorCode>(ev)) {
      case v1::ERROR_CODE_OK: return "success";
      case v1::ERROR_CODE_UNKNOWN_METHOD: return "unknown method";
      case v1::ERROR_CODE_INVALID_ARGUMENT: return "invalid argument";
      case v1::ERROR_CODE_NOT_FOUND: return "not found";
      case v1::ERROR_CODE_PERMISSION_DENIED: return "permission denied";
      case v1::ERROR_CODE_ALREADY_EXISTS: return "already exists";
      case v1::ERROR_CODE_RESOURCE_EXHAUSTED: return "resource exhausted";
      case v1::ERROR_CODE_DEADLINE_EXCEEDED: return "deadline exceeded";
      case v1::ERROR_CODE_CANCELLED: return "cancelled";
      case v1::ERROR_CODE_UNAVAILABLE: return "unavailable";
      case v1::ERROR_CODE_DISABLED_BY_CONFIG: return "disabled by configuration";
      case v1::ERROR_CODE_PROTOCOL_ERROR: return "protocol error";
      case v1::ERROR_CODE_FRAME_TOO_LARGE: return "frame too large";
      case v1::ERROR_CODE_INTERNAL: return "internal error";
      case v1::ERROR_CODE_IO_ERROR: return "I/O error";
      case v1::ERROR_CODE_FAILED_PRECONDITION: return "failed precondition";
      case v1::ERROR_CODE_DUPLICATE_CALL_ID: return "duplicate call id";
      case v1::ERROR_CODE_DATA_LOSS: return "data loss";
      default: return "unknown remote error " + std::to_string(ev);
    }
  }
};

}  // namespace

const std::error_category& codec_category() noexcept {
  static const codec_category_impl c;
  return c;
}

const std::error_category& remote_category() noexcept {
  static const remote_category_impl c;
  return c;
}

std::string error_code_name(v1::ErrorCode code) {
  std::string n = v1::ErrorCode_Name(code);
  constexpr std::string_view prefix = "ERROR_CODE_";
  if (n.starts_with(prefix)) n.erase(0, prefix.size());
  return n.empty() ? std::to_string(static_cast<int>(code)) : n;
}

}  // namespace tether::wire
