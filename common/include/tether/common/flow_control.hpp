// Credit-based flow control for one stream direction.
//
// The receiver of a stream grants the sender `window` bytes up front (from the
// Hello) and more as its consumer takes data; the sender never has more than
// that in flight. So a slow consumer stops the producer instead of growing a
// buffer, and one stream never starves the others on the connection.
#pragma once

#include <cstdint>
#include <optional>

#include "tether/common/async_event.hpp"

namespace tether {

// Sender side: how much may still be sent.
class send_window {
 public:
  send_window(const asio::any_io_executor& ex, std::uint64_t initial)
      : credit_(initial), changed_(ex) {}

  // Waits for credit and takes up to `want` bytes of it (at least 1).
  // Throws operation_aborted once close()d or when the caller is cancelled.
  awaitable<std::size_t> acquire(std::size_t want);
  // Takes up to `want` bytes of credit without waiting; 0 if there is none.
  std::size_t try_acquire(std::size_t want) noexcept;
  void grant(std::uint64_t bytes);
  void close();
  std::uint64_t credit() const noexcept { return credit_; }

 private:
  std::uint64_t credit_;
  bool closed_ = false;
  async_event changed_;
};

// Receiver side: checks that the peer stays within its credit and decides
// when to grant more (after a quarter window is consumed, to batch Credits).
class recv_window {
 public:
  explicit recv_window(std::uint64_t window) : window_(window), allowed_(window) {}

  // Accounts for arriving bytes; false if the peer overran its credit.
  bool on_arrival(std::size_t n);
  // Accounts for bytes the consumer took; returns a credit to grant, if due.
  std::optional<std::uint64_t> on_consumed(std::size_t n);

 private:
  std::uint64_t window_;
  std::uint64_t allowed_;    // bytes the peer may still send
  std::uint64_t consumed_ = 0;  // consumed since the last grant
};

}  // namespace tether
