// Serving one host connection in QGA: requests are answered one at a time,
// in order, as qemu-ga does (libvirt relies on it: it pairs replies with
// requests by order, and drops replies to an earlier guest-sync by id).
#pragma once

#include "qga/qga_agent.hpp"
#include "tether/common/byte_stream.hpp"

namespace tether::agent::qga {

// Returns when the host goes away (eof) or the stream is closed.
awaitable<void> serve_connection(qga_agent& agent, io::byte_stream& stream, stream_limits limits = {});

}  // namespace tether::agent::qga
