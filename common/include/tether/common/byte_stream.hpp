// Transport seam: a connected, ordered byte stream (unix socket, virtio port).
// The framing and session layers see only this.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tether/common/asio.hpp"

namespace tether::io {

class byte_stream {
 public:
  virtual ~byte_stream() = default;
  // Reads at least one byte. Throws system_error; asio::error::eof when the
  // peer went away.
  virtual awaitable<std::size_t> read_some(std::span<std::uint8_t> into) = 0;
  // Writes all bytes of all buffers.
  virtual awaitable<void> write_all(std::span<const asio::const_buffer> bufs) = 0;
  // Cancels pending operations; later operations fail.
  virtual void close() = 0;
  virtual std::string describe() const = 0;
};

}  // namespace tether::io
