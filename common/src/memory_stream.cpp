#include "tether/common/memory_stream.hpp"

#include <algorithm>
#include <deque>

#include "tether/common/async_event.hpp"

namespace tether::io {

struct memory_stream::pipe {
  pipe(const asio::any_io_executor& ex, std::size_t cap) : capacity(cap), changed(ex) {}
  std::size_t capacity;
  std::deque<std::uint8_t> bytes;
  bool writer_closed = false;  // reader sees eof once the bytes are read
  bool reader_closed = false;  // writer sees broken_pipe
  async_event changed;
};

namespace {
[[noreturn]] void fail(boost::system::error_code ec) { throw boost::system::system_error(ec); }
}  // namespace

memory_stream::memory_stream(std::shared_ptr<pipe> in, std::shared_ptr<pipe> out, std::string description)
    : in_(std::move(in)), out_(std::move(out)), description_(std::move(description)) {}

memory_stream::~memory_stream() { close(); }

awaitable<std::size_t> memory_stream::read_some(std::span<std::uint8_t> into) {
  for (;;) {
    if (in_->reader_closed) fail(asio::error::operation_aborted);
    if (!in_->bytes.empty()) break;
    if (in_->writer_closed) fail(asio::error::eof);
    co_await in_->changed.wait();
  }
  const std::size_t n = std::min(into.size(), in_->bytes.size());
  std::copy_n(in_->bytes.begin(), n, into.begin());
  in_->bytes.erase(in_->bytes.begin(), in_->bytes.begin() + static_cast<std::ptrdiff_t>(n));
  in_->changed.notify_all();
  co_return n;
}

awaitable<void> memory_stream::write_all(std::span<const asio::const_buffer> bufs) {
  for (const auto& b : bufs) {
    const auto* p = static_cast<const std::uint8_t*>(b.data());
    std::size_t left = b.size();
    while (left > 0) {
      if (out_->writer_closed) fail(asio::error::operation_aborted);
      if (out_->reader_closed) fail(asio::error::broken_pipe);
      const std::size_t room = out_->capacity - std::min(out_->capacity, out_->bytes.size());
      if (room == 0) {
        co_await out_->changed.wait();
        continue;
      }
      const std::size_t n = std::min(room, left);
      out_->bytes.insert(out_->bytes.end(), p, p + n);
      p += n;
      left -= n;
      out_->changed.notify_all();
    }
  }
}

void memory_stream::close() {
  if (!in_->reader_closed) {
    in_->reader_closed = true;
    in_->bytes.clear();
    in_->changed.notify_all();
  }
  if (!out_->writer_closed) {
    out_->writer_closed = true;
    out_->changed.notify_all();
  }
}

std::pair<std::unique_ptr<memory_stream>, std::unique_ptr<memory_stream>> make_memory_stream_pair(
    const asio::any_io_executor& ex, std::size_t capacity) {
  auto a_to_b = std::make_shared<memory_stream::pipe>(ex, capacity);
  auto b_to_a = std::make_shared<memory_stream::pipe>(ex, capacity);
  return {std::make_unique<memory_stream>(b_to_a, a_to_b, "memory stream (end a)"),
          std::make_unique<memory_stream>(a_to_b, b_to_a, "memory stream (end b)")};
}

}  // namespace tether::io
