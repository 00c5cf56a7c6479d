// Two connected in-memory byte_streams, for running the agent session and
// the host client in one process (tests). Behaves like a socket pair:
// each direction buffers at most `capacity` bytes (a writer waits for the
// reader), close() on one end gives the other end the rest of the data and
// then eof on read, broken_pipe on write; operations on a closed end fail
// with operation_aborted, as do waits whose coroutine is cancelled.
#pragma once

#include <memory>
#include <utility>

#include "tether/common/byte_stream.hpp"

namespace tether::io {

class memory_stream final : public byte_stream {
 public:
  struct pipe;  // one direction
  memory_stream(std::shared_ptr<pipe> in, std::shared_ptr<pipe> out, std::string description);
  ~memory_stream() override;  // closes

  awaitable<std::size_t> read_some(std::span<std::uint8_t> into) override;
  awaitable<void> write_all(std::span<const asio::const_buffer> bufs) override;
  void close() override;
  std::string describe() const override { return description_; }

 private:
  std::shared_ptr<pipe> in_, out_;
  std::string description_;
};

// {first, second}: what one end writes, the other reads.
std::pair<std::unique_ptr<memory_stream>, std::unique_ptr<memory_stream>> make_memory_stream_pair(
    const asio::any_io_executor& ex, std::size_t capacity = 256 * 1024);

}  // namespace tether::io
