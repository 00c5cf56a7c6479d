#include "tether/common/flow_control.hpp"

#include <algorithm>

namespace tether {

awaitable<std::size_t> send_window::acquire(std::size_t want) {
  while (credit_ == 0 && !closed_) co_await changed_.wait();
  if (closed_) throw boost::system::system_error(asio::error::operation_aborted);
  co_return try_acquire(want);
}

std::size_t send_window::try_acquire(std::size_t want) noexcept {
  if (closed_) return 0;
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(credit_, std::max<std::size_t>(want, 1)));
  credit_ -= n;
  return n;
}

void send_window::grant(std::uint64_t bytes) {
  // Saturate: a hostile peer cannot overflow the counter.
  credit_ = std::min<std::uint64_t>(credit_ + std::min<std::uint64_t>(bytes, UINT32_MAX), UINT64_MAX / 2);
  changed_.notify_all();
}

void send_window::close() {
  closed_ = true;
  changed_.notify_all();
}

bool recv_window::on_arrival(std::size_t n) {
  if (n > allowed_) return false;
  allowed_ -= n;
  return true;
}

std::optional<std::uint64_t> recv_window::on_consumed(std::size_t n) {
  consumed_ += n;
  if (consumed_ < window_ / 4) return std::nullopt;
  const auto grant = consumed_;
  consumed_ = 0;
  allowed_ += grant;
  return grant;
}

}  // namespace tether
