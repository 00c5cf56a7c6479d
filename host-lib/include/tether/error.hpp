// Errors of libtether. Everything the library reports is a tether::error:
// either one of the local conditions below (category "tether"), or an error
// status the agent answered with (category "tether.remote", values of
// tether.v1.ErrorCode). The library never logs; it throws.
#pragma once

#include <string>
#include <system_error>

#include "tether/v1/frame.pb.h"
#include "tether/wire/error.hpp"

namespace tether {

enum class errc {
  connection_failed = 1,  // the socket could not be connected
  handshake_failed,       // connected, but no agent answered the Hello
  timeout,                // the call's deadline passed
  cancelled,              // the caller cancelled the call
  connection_lost,        // the connection ended while the call ran
  protocol_error,         // the agent sent something invalid
  limit_exceeded,         // a local limit (open calls, frame size) was hit
  closed,                 // the client was closed
  invalid_argument,       // bad argument to a library function
  data_loss,              // transferred bytes do not match their checksum
  local_io,               // reading or writing a local (host) file failed
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

class error : public std::system_error {
 public:
  error(std::error_code code, const std::string& what) : std::system_error(code, what) {}
  error(errc code, const std::string& what) : std::system_error(make_error_code(code), what) {}

  // True when the agent answered the call with an error status.
  bool is_remote() const noexcept { return code().category() == wire::remote_category(); }
  v1::ErrorCode remote_code() const noexcept {
    return is_remote() ? static_cast<v1::ErrorCode>(code().value()) : v1::ERROR_CODE_OK;
  }
  // True for failures to reach the agent in time (connect, handshake,
  // timeout, lost connection): retrying later may help.
  bool is_connectivity() const noexcept;
};

}  // namespace tether

template <>
struct std::is_error_code_enum<tether::errc> : std::true_type {};
