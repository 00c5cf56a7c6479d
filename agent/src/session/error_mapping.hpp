// How a failed call's exception becomes the wire status the host sees: one
// mapping for every error type, by the error's category, so an errno gives
// the same code whether it arrived as boost::system::system_error (Asio) or
// std::system_error.
#pragma once

#include <exception>
#include <system_error>

#include <boost/system/error_code.hpp>

#include "tether/v1/frame.pb.h"

namespace tether::agent {

// errno (generic or system category) -> error_code_from_errno; framing
// errors -> FRAME_TOO_LARGE / PROTOCOL_ERROR; a peer's wire code -> itself;
// anything else (eof, resolver, ...) -> IO_ERROR.
v1::ErrorCode error_code_for(const std::error_code& ec);
v1::ErrorCode error_code_for(const boost::system::error_code& ec);

// The status of a call that ended with `e`:
//   call_error                      -> its code and message
//   operation_aborted (Asio)        -> `cancel_reason` (CANCELLED if none:
//                                      the session ended the call)
//   boost / std system_error        -> error_code_for(code), what()
//   any other exception             -> INTERNAL ("internal error: ...")
v1::Status status_for(std::exception_ptr e, v1::ErrorCode cancel_reason);

}  // namespace tether::agent
