// The fuzzer's writing end of a connection: writes queued bytes in order,
// one write at a time, on the io_context (a peer that does not read holds
// the writer up, never the fuzzer's thread, which also runs that peer).
#pragma once

#include <deque>
#include <span>
#include <string>

#include "tether/common/async_event.hpp"
#include "tether/common/byte_stream.hpp"

namespace tether::fuzz {

struct writer {
  explicit writer(const asio::any_io_executor& ex) : wake(ex) {}
  std::deque<std::string> queue;
  async_event wake;
  bool closing = false;
  bool done = false;

  void send(std::string bytes) {
    queue.push_back(std::move(bytes));
    wake.notify_all();
  }
  void close() {
    closing = true;
    wake.notify_all();
  }
  awaitable<void> run(io::byte_stream& s) {
    try {
      for (;;) {
        while (!queue.empty()) {
          const std::string bytes = std::move(queue.front());
          queue.pop_front();
          asio::const_buffer b(bytes.data(), bytes.size());
          co_await s.write_all(std::span<const asio::const_buffer>(&b, 1));
        }
        if (closing) break;
        co_await wake.wait();
      }
    } catch (const boost::system::system_error&) {
      // the other side closed the connection
    }
    done = true;
  }
};

}  // namespace tether::fuzz
