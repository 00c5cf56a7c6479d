// The protocol's frames as both sides build them: Hello (with its
// preamble), credit, end of stream, cancel, error and error responses.
// Field by field they are the same for agent and host; only who sends which
// differs.
#pragma once

#include <cstdint>
#include <string>

#include "tether/v1/frame.pb.h"

namespace tether::frames {

// A Hello of `role` speaking this protocol version; the caller fills in the
// role-specific fields (nonce, session id, limits, capabilities).
v1::Frame hello(v1::Hello::Role role, std::string software_version);
// Preamble + frame: how every Hello (and an error before a session) goes out,
// so a peer that lost synchronisation finds it.
std::string with_preamble(const v1::Frame& frame);
// Grants the peer `bytes` more on `stream` of `call_id` (EVENT_STREAM: events).
v1::Frame credit(std::uint64_t call_id, std::uint32_t stream, std::uint64_t bytes);
// Marks outbound `stream` of `call_id` finished.
v1::Frame end_of_stream(std::uint64_t call_id, std::uint32_t stream);
v1::Frame cancel(std::uint64_t call_id);
// A connection-level (call_id 0) or call-level Error frame.
v1::Frame error(v1::ErrorCode code, std::string message, std::uint64_t call_id = 0);
// A Response carrying an error status (no payload).
v1::Frame error_response(std::uint64_t call_id, v1::ErrorCode code, std::string message);

}  // namespace tether::frames
