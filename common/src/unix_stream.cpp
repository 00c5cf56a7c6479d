#include "tether/common/unix_stream.hpp"

namespace tether::io {

unix_stream::unix_stream(asio::local::stream_protocol::socket socket, std::string description)
    : socket_(std::move(socket)), description_(std::move(description)) {
  // Large socket buffers: bulk transfers batch into fewer syscalls.
  boost::system::error_code ec;
  socket_.set_option(asio::socket_base::send_buffer_size(1 << 20), ec);
  socket_.set_option(asio::socket_base::receive_buffer_size(1 << 20), ec);
}

awaitable<std::size_t> unix_stream::read_some(std::span<std::uint8_t> into) {
  co_return co_await socket_.async_read_some(asio::buffer(into.data(), into.size()),
                                             use_awaitable);
}

awaitable<void> unix_stream::write_all(std::span<const asio::const_buffer> bufs) {
  co_await asio::async_write(socket_, bufs, use_awaitable);
}

void unix_stream::close() {
  boost::system::error_code ec;
  socket_.shutdown(asio::socket_base::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace tether::io
