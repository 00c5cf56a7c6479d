// The broker's limits, all configurable (tetherd --help): what one guest's
// clients may take of the broker, so an untrusted client cannot exhaust it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tether::broker {

struct limits {
  // Clients connected to one guest's socket at once; more are refused.
  std::size_t max_clients = 64;
  // Calls one client may run at once; more get RESOURCE_EXHAUSTED.
  std::size_t max_calls_per_client = 256;
  // Bytes queued toward one client; a client that lets more pile up (it
  // does not read its socket) is disconnected and its calls cancelled.
  std::size_t max_client_queue = 64u << 20;
  // The stream window the broker announces to the agent; clients must
  // announce at least this much (libtether's default is 2 MiB).
  std::uint32_t min_stream_window = 64u << 10;
  // Largest frame accepted from the agent (and announced to it).
  std::uint32_t max_frame_size = 1u << 20;
  // Bytes queued toward the guest before the broker stops reading clients.
  std::size_t max_guest_queue = 8u << 20;
};

}  // namespace tether::broker
