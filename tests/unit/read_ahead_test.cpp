#include "files/read_ahead.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

namespace tether {
namespace {

namespace asio = boost::asio;
using agent::files::read_ahead;

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + 7);
  return s;
}

unique_fd file_with(const std::string& data) {
  unique_fd fd(::memfd_create("read_ahead_test", MFD_CLOEXEC));
  EXPECT_TRUE(fd);
  EXPECT_EQ(::write(fd.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  return fd;
}

struct outcome {
  std::string bytes;      // every chunk, in order
  std::size_t chunks = 0;
  std::size_t largest = 0;
  std::string digest;
  int error = 0;
};

outcome read_all(unique_fd fd, checksum_kind kind, read_ahead::options o) {
  asio::io_context loop;
  asio::thread_pool pool(1);
  outcome out;
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        read_ahead reader(pool, loop.get_executor(), std::move(fd), kind, o);
        try {
          for (;;) {
            const auto chunk = co_await reader.next();
            if (chunk.bytes.empty()) break;
            out.bytes.append(chunk.bytes);
            ++out.chunks;
            out.largest = std::max(out.largest, chunk.bytes.size());
          }
        } catch (const std::system_error& e) {
          out.error = e.code().value();
        }
        out.digest = co_await reader.finish();
      },
      asio::detached);
  loop.run();
  pool.join();
  return out;
}

TEST(ReadAhead, HandsOutTheFileInOrderThroughReusedBuffersWithItsDigest) {
  const std::string data = pattern(1'000'003);
  // 2 buffers of 64 KiB for 16 chunks: each buffer is refilled many times.
  const auto r = read_all(file_with(data), checksum_kind::xxh3_128, {.chunk = 65'536, .depth = 2});
  EXPECT_EQ(r.error, 0);
  EXPECT_TRUE(r.bytes == data);
  EXPECT_EQ(r.chunks, 16u);
  EXPECT_EQ(r.largest, 65'536u);
  EXPECT_EQ(r.digest, checksum::of(checksum_kind::xxh3_128, data));
}

// A chunk's buffer is not read into again while its lease is held (a frame
// still queued for the port refers to it): the reader waits for it.
TEST(ReadAhead, ABufferIsReusedOnlyOnceItsChunkIsLetGo) {
  const std::string data = pattern(700'001);
  asio::io_context loop;
  asio::thread_pool pool(1);
  std::string got;
  std::size_t intact = 0, released = 0;
  asio::co_spawn(
      loop,
      [&]() -> asio::awaitable<void> {
        read_ahead reader(pool, loop.get_executor(), file_with(data), checksum_kind::xxh64,
                          {.chunk = 65'536, .depth = 2});
        std::deque<std::pair<read_ahead::chunk, std::string>> held;  // chunk, its bytes when handed out
        for (;;) {
          auto chunk = co_await reader.next();
          if (chunk.bytes.empty()) break;
          got.append(chunk.bytes);
          held.emplace_back(chunk, std::string(chunk.bytes));
          if (held.size() < 2) continue;
          // Both buffers are held: let the older go a little later, as the
          // writer would, and check it kept its bytes meanwhile.
          auto oldest = std::move(held.front());
          held.pop_front();
          asio::co_spawn(
              loop,
              [&, oldest = std::move(oldest)]() mutable -> asio::awaitable<void> {
                for (int i = 0; i < 3; ++i) co_await asio::post(loop, asio::use_awaitable);
                intact += oldest.first.bytes == oldest.second;
                ++released;
                oldest.first.hold.reset();
              },
              asio::detached);
        }
        for (auto& h : held) intact += h.first.bytes == h.second, ++released;
        held.clear();
        EXPECT_EQ(co_await reader.finish(), checksum::of(checksum_kind::xxh64, data));
      },
      asio::detached);
  loop.run();
  pool.join();
  EXPECT_TRUE(got == data);
  EXPECT_EQ(released, 11u);
  EXPECT_EQ(intact, released);
}

TEST(ReadAhead, ReadsOnlyTheAskedRange) {
  const std::string data = pattern(300'000);
  const auto r = read_all(file_with(data), checksum_kind::sha256, {.offset = 1'000, .length = 200'000, .chunk = 65'536});
  EXPECT_TRUE(r.bytes == data.substr(1'000, 200'000));
  EXPECT_EQ(r.digest, checksum::of(checksum_kind::sha256, data.substr(1'000, 200'000)));
  // A range past the end: what there is.
  const auto tail = read_all(file_with(data), checksum_kind::xxh64, {.offset = 299'990, .length = 1'000});
  EXPECT_EQ(tail.bytes, data.substr(299'990));
  EXPECT_EQ(tail.digest, checksum::of(checksum_kind::xxh64, data.substr(299'990)));
}

TEST(ReadAhead, AnEmptyFileGivesNoChunkAndTheEmptyDigest) {
  const auto r = read_all(file_with(""), checksum_kind::xxh64, {});
  EXPECT_EQ(r.chunks, 0u);
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(r.digest, checksum::of(checksum_kind::xxh64, ""));
}

TEST(ReadAhead, AFailedReadIsThrownWithItsErrno) {
  unique_fd write_only(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  const auto r = read_all(std::move(write_only), checksum_kind::xxh3_128, {});
  EXPECT_EQ(r.error, EBADF);
  EXPECT_EQ(r.chunks, 0u);
}

}  // namespace
}  // namespace tether
