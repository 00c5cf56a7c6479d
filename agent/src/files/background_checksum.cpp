#include "files/background_checksum.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

#include "tether/common/unique_fd.hpp"

namespace tether::agent::files {

namespace asio = boost::asio;

struct background_checksum::state {
  state(asio::thread_pool& pool, asio::any_io_executor loop, checksum_kind kind, int write_to)
      : strand(asio::make_strand(pool)), loop(loop), wake(loop), sum(kind),
        file(write_to >= 0 ? ::fcntl(write_to, F_DUPFD_CLOEXEC, 0) : -1) {
    if (write_to >= 0 && !file) throw std::system_error(errno, std::system_category(), "dup");
  }
  asio::strand<asio::thread_pool::executor_type> strand;
  asio::any_io_executor loop;
  asio::steady_timer wake;  // cancelled (on the loop) each time a chunk is done
  checksum sum;             // touched only by the strand until pending == 0
  unique_fd file;           // the strand's: where chunks are written first
  int write_error = 0;      // the strand's: the first failed write (later chunks are dropped)
  std::size_t pending = 0;  // loop thread only
  int failed = 0;           // loop thread only: write_error, as the loop learned it

  // On the strand.
  void write_and_hash(std::string_view bytes) {
    if (write_error) return;
    for (std::string_view left = bytes; file && !left.empty();) {
      const ssize_t n = ::write(file.get(), left.data(), left.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        write_error = errno;
        return;
      }
      left.remove_prefix(static_cast<std::size_t>(n));
    }
    sum.update(bytes);
  }
  void throw_if_failed() const {
    if (failed) throw std::system_error(failed, std::system_category(), "write");
  }
};

background_checksum::background_checksum(asio::thread_pool& pool, asio::any_io_executor loop, checksum_kind kind,
                                         std::size_t max_pending, int write_to)
    : state_(std::make_shared<state>(pool, std::move(loop), kind, write_to)),
      max_pending_(max_pending ? max_pending : 1) {}

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
  s.throw_if_failed();
  ++s.pending;
  asio::post(s.strand, [st = state_, owner = std::move(owner), bytes] {
    st->write_and_hash(bytes);
    asio::post(st->loop, [st, err = st->write_error] {
      --st->pending;
      if (!st->failed) st->failed = err;
      st->wake.cancel();
    });
  });
}

asio::awaitable<std::string> background_checksum::finish() {
  auto& s = *state_;
  while (s.pending > 0) co_await wait_for_one(s);
  s.throw_if_failed();
  co_return s.sum.finish();
}

}  // namespace tether::agent::files
