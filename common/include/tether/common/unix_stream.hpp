// byte_stream over a connected AF_UNIX stream socket (QEMU chardev socket on
// the host, --listen-unix in the agent).
#pragma once

#include "tether/common/byte_stream.hpp"

namespace tether::io {

class unix_stream final : public byte_stream {
 public:
  unix_stream(asio::local::stream_protocol::socket socket, std::string description);

  awaitable<std::size_t> read_some(std::span<std::uint8_t> into) override;
  awaitable<void> write_all(std::span<const asio::const_buffer> bufs) override;
  void close() override;
  std::string describe() const override { return description_; }

  asio::local::stream_protocol::socket& socket() { return socket_; }

 private:
  asio::local::stream_protocol::socket socket_;
  std::string description_;
};

}  // namespace tether::io
