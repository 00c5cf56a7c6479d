#include "tether/common/memory_stream.hpp"

#include <gtest/gtest.h>

#include "support/async.hpp"
#include "tether/common/random.hpp"

namespace tether::io {
namespace {

using test::run_for;

awaitable<void> write(byte_stream& s, std::string bytes) {
  asio::const_buffer b(bytes.data(), bytes.size());
  co_await s.write_all(std::span<const asio::const_buffer>(&b, 1));
}

awaitable<std::string> read(byte_stream& s, std::size_t n) {
  std::string out;
  std::uint8_t buf[4096];
  while (out.size() < n) {
    const std::size_t got = co_await s.read_some(std::span(buf, std::min(sizeof buf, n - out.size())));
    out.append(reinterpret_cast<const char*>(buf), got);
  }
  co_return out;
}

boost::system::error_code stream_error_of(asio::io_context& ctx, awaitable<void> op) {
  try {
    run_for(ctx, std::move(op));
  } catch (const boost::system::system_error& e) {
    return e.code();
  }
  return {};
}

TEST(AMemoryStreamPair, CarriesBytesBothWays) {
  asio::io_context ctx;
  auto [a, b] = make_memory_stream_pair(ctx.get_executor());
  run_for(ctx, write(*a, "ping"));
  EXPECT_EQ(run_for(ctx, read(*b, 4)), "ping");
  run_for(ctx, write(*b, "pong"));
  EXPECT_EQ(run_for(ctx, read(*a, 4)), "pong");
}

TEST(AMemoryStreamPair, MakesAWriterWaitForTheReaderBeyondItsCapacity) {
  asio::io_context ctx;
  auto [a, b] = make_memory_stream_pair(ctx.get_executor(), 16);
  const std::string bytes = random_bytes(1000);
  bool written = false;
  asio::co_spawn(ctx, [&]() -> awaitable<void> {
    co_await write(*a, bytes);
    written = true;
  }, asio::detached);
  ctx.poll();
  EXPECT_FALSE(written);
  EXPECT_EQ(run_for(ctx, read(*b, bytes.size())), bytes);
  ctx.poll();
  EXPECT_TRUE(written);
}

TEST(AMemoryStreamPair, GivesTheRestThenEofAfterThePeerCloses) {
  asio::io_context ctx;
  auto [a, b] = make_memory_stream_pair(ctx.get_executor());
  run_for(ctx, write(*a, "last words"));
  a->close();
  EXPECT_EQ(run_for(ctx, read(*b, 10)), "last words");
  EXPECT_EQ(stream_error_of(ctx, [&]() -> awaitable<void> { co_await read(*b, 1); }()), asio::error::eof);
  EXPECT_EQ(stream_error_of(ctx, write(*b, "anyone?")), asio::error::broken_pipe);
  // The closed end itself fails as a closed socket would.
  EXPECT_EQ(stream_error_of(ctx, write(*a, "x")), asio::error::operation_aborted);
}

TEST(AMemoryStreamPair, WakesAPendingReadWhenClosed) {
  asio::io_context ctx;
  auto [a, b] = make_memory_stream_pair(ctx.get_executor());
  auto fut = asio::co_spawn(ctx, read(*b, 1), asio::use_future);
  ctx.poll();
  b->close();
  ctx.run_for(std::chrono::seconds(5));
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_THROW(fut.get(), boost::system::system_error);
}

TEST(RandomBytes, GivesTheRequestedNumberOfDifferentBytes) {
  EXPECT_EQ(random_bytes(16).size(), 16u);
  EXPECT_NE(random_bytes(16), random_bytes(16));
  EXPECT_EQ(random_bytes(0), "");
}

}  // namespace
}  // namespace tether::io
