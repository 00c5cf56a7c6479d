#include "qga/server.hpp"

#include <array>

namespace tether::agent::qga {

awaitable<void> serve_connection(qga_agent& agent, io::byte_stream& stream, stream_limits limits) {
  agent.connected();
  struct counted {
    qga_agent& a;
    ~counted() { a.disconnected(); }
  } count_off{agent};
  json_stream splitter(limits);
  std::vector<std::uint8_t> buf(64 * 1024);
  std::vector<stream_item> items;
  for (;;) {
    std::size_t n = 0;
    try {
      n = co_await stream.read_some(buf);
    } catch (const boost::system::system_error& e) {
      // The host went away, or the agent closed the stream (stopping).
      if (e.code() == asio::error::eof || e.code() == asio::error::operation_aborted) co_return;
      throw;
    }
    splitter.feed(std::span(buf.data(), n), items);
    for (const auto& item : items) {
      auto r = co_await agent.handle(item);
      if (r.text) {
        // qemu-ga's delimiter: 0xFF ahead of guest-sync-delimited's reply,
        // so a client drops every older byte up to it.
        if (r.delimit) r.text->insert(r.text->begin(), '\xFF');
        r.text->push_back('\n');
        const std::array bufs{asio::const_buffer(r.text->data(), r.text->size())};
        try {
          co_await stream.write_all(bufs);
        } catch (...) {
          if (r.after_reply) r.after_reply(false);
          throw;
        }
      }
      if (r.after_reply) r.after_reply(true);
    }
    items.clear();
  }
}

}  // namespace tether::agent::qga
