// Errors of libtether. Everything the library reports is a tether::error:
// either one of the local conditions below (errc, category "tether"), or an
// error status the agent answered with (remote_errc, category
// "tether.remote"). The library never logs; it throws.
//
//   catch (const tether::error& e) {
//     if (e.remote_code() == tether::remote_errc::not_found) ...
//     if (e.code() == tether::errc::timeout) ...
//   }
#pragma once

#include <string>
#include <system_error>


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
  // libvirt domains (client_options::domain, tether/libvirt.hpp):
  libvirt_failed,         // cannot connect to libvirt at the URI, or a libvirt call failed
  no_such_domain,         // libvirt knows no domain of that name
  domain_not_running,     // the domain is defined but not running
  no_agent_channel,       // the domain has no unix channel named org.tether.agent.0
};

const std::error_category& category() noexcept;
inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

// Error statuses the agent answers a call with (proto/tether/v1/frame.proto,
// enum ErrorCode, documents each; the values are the wire's).
enum class remote_errc {
  ok = 0,               // not an error (remote_code() of a local error)
  unknown_method,       // the agent has no such method
  invalid_argument,     // the request is malformed or out of range
  not_found,            // a file, command, user, device... does not exist
  permission_denied,    // the guest refused (permissions, policy)
  already_exists,       // e.g. an upload without overwrite
  resource_exhausted,   // a limit of the agent or the guest was hit
  deadline_exceeded,    // the call's deadline passed in the agent
  cancelled,            // the call was cancelled
  unavailable,          // the service cannot work now (e.g. no udevd)
  disabled_by_config,   // the agent's configuration disables it
  protocol_error,       // the agent received something invalid
  frame_too_large,      // a frame exceeded the agent's limit
  internal,             // a bug or unexpected failure in the agent
  io_error,             // an I/O error in the guest
  failed_precondition,  // the guest is not in a state that allows it
  duplicate_call_id,    // a call id was used twice
  data_loss,            // transferred bytes do not match their checksum
};

// Category of remote errors ("tether.remote"); values are remote_errc.
const std::error_category& remote_category() noexcept;
inline std::error_code make_error_code(remote_errc e) noexcept {
  return {static_cast<int>(e), remote_category()};
}
// Short stable name of a remote error code, e.g. "NOT_FOUND".
std::string remote_errc_name(remote_errc e);

class error : public std::system_error {
 public:
  error(std::error_code code, const std::string& what) : std::system_error(code, what) {}
  error(errc code, const std::string& what) : std::system_error(make_error_code(code), what) {}

  // True when the agent answered the call with an error status.
  bool is_remote() const noexcept { return code().category() == remote_category(); }
  // The agent's error status; remote_errc::ok for a local error.
  remote_errc remote_code() const noexcept {
    return is_remote() ? static_cast<remote_errc>(code().value()) : remote_errc::ok;
  }
  // True for failures to reach the agent in time (connect, handshake,
  // timeout, lost connection): retrying later may help.
  bool is_connectivity() const noexcept;
};

}  // namespace tether

template <>
struct std::is_error_code_enum<tether::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<tether::remote_errc> : std::true_type {};
