#include "files/background_checksum.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tether::agent::files {

namespace asio = boost::asio;

struct background_checksum::state {
  state(asio::thread_pool& pool, asio::any_io_executor loop, checksum_kind kind)
      : strand(asio::make_strand(pool)), loop(loop), wake(loop), sum(kind) {}
  asio::strand<asio::thread_pool::executor_type> strand;
  asio::any_io_executor loop;
  asio::steady_timer wake;  // cancelled (on the loop) each time a chunk is done
  checksum sum;             // touched only by the strand until pending == 0
  std::size_t pending = 0;  // loop thread only
};

background_checksum::background_checksum(asio::thread_pool& pool, asio::any_io_executor loop, checksum_kind kind,
                                         std::size_t max_pending)
    : state_(std::make_shared<state>(pool, std::move(loop), kind)), max_pending_(max_pending ? max_pending : 1) {}

asio::awaitable<void> background_checksum::wait_for_one(state& s) {
  // The completion is posted to the loop, so it cannot slip in between the
  // caller's check of `pending` and this wait.
  s.wake.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ignored;
  co_await s.wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

asio::awaitable<void> background_checksum::submit(std::shared_ptr<const void> owner, std::string_view bytes) {
  auto& s = *state_;
  while (s.pending >= max_pending_) co_await wait_for_one(s);
  ++s.pending;
  asio::post(s.strand, [st = state_, owner = std::move(owner), bytes] {
    st->sum.update(bytes);
    asio::post(st->loop, [st] {
      --st->pending;
      st->wake.cancel();
    });
  });
}

asio::awaitable<std::string> background_checksum::finish() {
  auto& s = *state_;
  while (s.pending > 0) co_await wait_for_one(s);
  co_return s.sum.finish();
}

}  // namespace tether::agent::files
