#include "files/read_ahead.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <system_error>
#include <vector>

namespace tether::agent::files {

namespace asio = boost::asio;

struct read_ahead::state {
  state(asio::thread_pool& pool, asio::any_io_executor loop, unique_fd file, checksum_kind kind, options o)
      : strand(asio::make_strand(pool)), loop(loop), wake(loop), fd(std::move(file)), sum(kind), chunk(o.chunk),
        offset(o.offset), left(o.length) {}

  struct filled {
    std::size_t buffer;
    std::size_t size;
    int error;
  };

  asio::strand<asio::thread_pool::executor_type> strand;
  asio::any_io_executor loop;
  asio::steady_timer wake;  // cancelled (on the loop) each time a read is done
  const unique_fd fd;
  checksum sum;           // the strand's until every job is done
  bool stopped = false;   // the strand's: a short or failed read ends the file
  const std::size_t chunk;
  std::vector<std::unique_ptr<char[]>> buffers;

  // The loop's:
  std::vector<std::size_t> free;
  std::deque<filled> ready;
  std::size_t in_flight = 0;
  std::uint64_t offset, left;  // the next read's place; bytes not yet asked for
  std::size_t lent = 0;  // buffers whose chunk is still held (lease)
  bool ended = false;

  // On the strand: one read (all of `want` unless the file ends), hashed.
  filled read(std::size_t buffer, std::uint64_t at, std::size_t want) {
    if (stopped) return {buffer, 0, 0};
    char* p = buffers[buffer].get();
    std::size_t got = 0;
    while (got < want) {
      const ssize_t n = ::pread(fd.get(), p + got, want - got, static_cast<off_t>(at + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        stopped = true;
        return {buffer, 0, errno};
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got < want) stopped = true;
    sum.update(std::string_view(p, got));
    return {buffer, got, 0};
  }
};

read_ahead::read_ahead(asio::thread_pool& pool, asio::any_io_executor loop, unique_fd file, checksum_kind kind,
                       options o)
    : state_(std::make_shared<state>(pool, std::move(loop), std::move(file), kind, o)) {
  auto& s = *state_;
  const std::size_t depth = o.depth ? o.depth : 1;
  for (std::size_t i = 0; i < depth; ++i) {
    // Left uninitialized: pread fills them.
    s.buffers.emplace_back(new char[s.chunk]);
    s.free.push_back(i);
  }
  schedule(state_);
}

// Chunks still held (frames not yet written) come back later: no read starts
// for them once the reader is gone (a download that failed or was cancelled).
read_ahead::~read_ahead() { state_->ended = true; }

struct read_ahead::lease {
  lease(std::shared_ptr<state> s, std::size_t b) : st(std::move(s)), buffer(b) {}
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  std::shared_ptr<state> st;
  std::size_t buffer;
  // On the loop (the writer and the download run there).
  ~lease() {
    --st->lent;
    st->free.push_back(buffer);
    schedule(st);
    st->wake.cancel();  // a next() waiting for a buffer
  }
};

void read_ahead::schedule(const std::shared_ptr<state>& st) {
  auto& s = *st;
  while (!s.free.empty() && s.left > 0 && !s.ended) {
    const std::size_t buffer = s.free.back();
    s.free.pop_back();
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(s.chunk, s.left));
    const std::uint64_t at = s.offset;
    s.offset += want;
    s.left -= want;
    ++s.in_flight;
    asio::post(s.strand, [st, buffer, at, want] {
      const auto done = st->read(buffer, at, want);
      asio::post(st->loop, [st, done] {
        --st->in_flight;
        st->ready.push_back(done);
        st->wake.cancel();
      });
    });
  }
}

asio::awaitable<void> read_ahead::wait_for_one() {
  // Completions are posted to the loop, so none can slip in between the
  // caller's check and this wait.
  auto& s = *state_;
  s.wake.expires_at(asio::steady_timer::time_point::max());
  boost::system::error_code ignored;
  co_await s.wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

asio::awaitable<read_ahead::chunk> read_ahead::next() {
  auto& s = *state_;
  schedule(state_);
  // Wait for a read in flight, or for a lent buffer to come back and its
  // read to start.
  while (!s.ended && s.ready.empty() && (s.in_flight > 0 || (s.left > 0 && s.lent > 0)))
    co_await wait_for_one();
  if (s.ended || s.ready.empty()) co_return chunk{};
  const auto f = s.ready.front();
  s.ready.pop_front();
  if (f.error) {
    s.ended = true;
    throw std::system_error(f.error, std::system_category(), "pread");
  }
  if (f.size == 0) {
    s.ended = true;
    s.free.push_back(f.buffer);
    co_return chunk{};
  }
  ++s.lent;
  co_return chunk{std::string_view(s.buffers[f.buffer].get(), f.size),
                  std::make_shared<const lease>(state_, f.buffer)};
}

asio::awaitable<std::string> read_ahead::finish() {
  auto& s = *state_;
  s.ended = true;  // no further reads
  while (s.in_flight > 0) co_await wait_for_one();
  co_return s.sum.finish();
}

}  // namespace tether::agent::files
