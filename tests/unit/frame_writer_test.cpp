#include "tether/common/frame_writer.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/async.hpp"
#include "tether/common/memory_stream.hpp"
#include "tether/common/unix_stream.hpp"
#include "tether/wire/codec.hpp"

namespace tether {
namespace {

v1::Frame data_frame(std::uint64_t id) {
  v1::Frame f;
  f.mutable_data()->set_call_id(id);
  f.mutable_data()->set_data(std::string(1000, 'd'));
  return f;
}

v1::Frame response_frame(std::uint64_t id) {
  v1::Frame f;
  f.mutable_response()->set_call_id(id);
  return f;
}

TEST(FrameWriter, SendsControlFramesAheadOfQueuedBulkData) {
  asio::io_context ctx;
  asio::local::stream_protocol::socket a(ctx), b(ctx);
  asio::local::connect_pair(a, b);
  io::unix_stream out(std::move(a), "pair");
  frame_writer w(ctx.get_executor(), 4096);
  for (int i = 0; i < 20; ++i) w.send(data_frame(i), frame_writer::lane::bulk);
  w.send(response_frame(99));  // queued last, must go out first

  std::string received;
  asio::co_spawn(ctx, w.run(out), asio::detached);
  asio::co_spawn(ctx, [&]() -> awaitable<void> {
    char buf[65536];
    while (received.size() < 20 * 1000) {
      auto n = co_await b.async_read_some(asio::buffer(buf), use_awaitable);
      received.append(buf, n);
    }
    w.stop();
  }, asio::detached);
  ctx.run_for(std::chrono::seconds(5));

  wire::frame_decoder d;
  std::string all;
  wire::append_preamble(all);
  d.feed(all + received);
  d.next();  // preamble
  auto first = d.next();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->frame.has_response());
  EXPECT_EQ(first->frame.response().call_id(), 99u);
}

// Records how each write arrives: the port turns every buffer of a
// gathered write into its own write(2) and host notification.
class recording_stream : public io::byte_stream {
 public:
  std::vector<std::vector<std::string>> writes;
  awaitable<std::size_t> read_some(std::span<std::uint8_t>) override { co_return 0; }
  awaitable<void> write_all(std::span<const asio::const_buffer> bufs) override {
    auto& w = writes.emplace_back();
    for (const auto& b : bufs) w.emplace_back(static_cast<const char*>(b.data()), b.size());
    co_return;
  }
  void close() override {}
  std::string describe() const override { return "recording"; }
};

TEST(FrameWriter, JoinsASmallBatchIntoOneBufferButNotALargeOne) {
  asio::io_context ctx;
  frame_writer w(ctx.get_executor());
  recording_stream out;
  std::string expected;
  for (std::uint64_t id : {1, 2, 3}) {
    v1::Frame f = id == 3 ? response_frame(id) : data_frame(id);
    wire::append_frame(expected, f);
    w.send(f, f.has_data() ? frame_writer::lane::bulk : frame_writer::lane::control);
  }
  asio::co_spawn(ctx, w.run(out), asio::detached);
  ctx.poll();  // the recording stream completes at once: the writer drains, then waits
  ASSERT_EQ(out.writes.size(), 1u);
  ASSERT_EQ(out.writes[0].size(), 1u);
  EXPECT_EQ(out.writes[0][0].size(), expected.size());

  // Two 30 KB frames: each already fills a port write; no copy.
  for (std::uint64_t id : {4, 5}) {
    v1::Frame f;
    f.mutable_data()->set_call_id(id);
    f.mutable_data()->set_data(std::string(30'000, 'x'));
    w.send(f, frame_writer::lane::bulk);
  }
  ctx.poll();
  w.stop();
  ctx.poll();
  ASSERT_EQ(out.writes.size(), 2u);
  EXPECT_EQ(out.writes[1].size(), 2u);
}

// A shared-tail frame goes out as its head and the sender's own buffer (no
// copy), the same bytes as the copied frame, and the writer lets go of the
// buffer once written; clear() lets go of one never written.
TEST(FrameWriter, WritesASharedTailInPlaceAndThenLetsGoOfIt) {
  asio::io_context ctx;
  frame_writer w(ctx.get_executor());
  recording_stream out;
  const auto payload = std::make_shared<const std::string>(40'000, 'p');
  std::string head;
  wire::append_data_frame_head(head, 7, 0, payload->size());
  w.send_shared(head, *payload, payload);
  EXPECT_EQ(payload.use_count(), 2);
  asio::co_spawn(ctx, w.run(out), asio::detached);
  ctx.poll();
  ASSERT_EQ(out.writes.size(), 1u);
  ASSERT_EQ(out.writes[0].size(), 2u);
  std::string copied;
  wire::append_data_frame(copied, 7, 0, *payload);
  EXPECT_TRUE(out.writes[0][0] + out.writes[0][1] == copied);
  EXPECT_EQ(payload.use_count(), 1);  // written: let go

  w.stop();
  ctx.poll();
  frame_writer idle(ctx.get_executor());
  idle.send_shared(head, *payload, payload);
  EXPECT_EQ(payload.use_count(), 2);
  idle.clear();
  EXPECT_EQ(payload.use_count(), 1);
}

TEST(FrameWriter, ClearDropsQueuedFrames) {
  asio::io_context ctx;
  frame_writer w(ctx.get_executor());
  w.send(response_frame(1));
  w.send(data_frame(2), frame_writer::lane::bulk);
  EXPECT_GT(w.queued_bytes(), 0u);
  w.clear();
  EXPECT_EQ(w.queued_bytes(), 0u);
}

TEST(FrameWriter, TellsWhenTheFramesQueuedSoFarWereWritten) {
  asio::io_context ctx;
  auto [out, in] = io::make_memory_stream_pair(ctx.get_executor(), 64);
  frame_writer w(ctx.get_executor());
  w.send(data_frame(1), frame_writer::lane::bulk);
  const auto position = w.queued_position(frame_writer::lane::bulk);
  std::optional<bool> written;
  asio::co_spawn(ctx, w.run(*out), asio::detached);
  asio::co_spawn(ctx, [&]() -> awaitable<void> {
    written = co_await w.wait_written(frame_writer::lane::bulk, position);
  }, asio::detached);
  w.send(data_frame(2), frame_writer::lane::bulk);  // later frames do not count
  ctx.poll();
  EXPECT_FALSE(written.has_value());  // 64 bytes fit; the frame does not
  std::uint8_t buf[1100];
  std::size_t got = 0;
  while (!written) {
    got += test::run_for(ctx, in->read_some(buf));
    ctx.poll();
  }
  ASSERT_TRUE(written.has_value());
  EXPECT_TRUE(*written);
  EXPECT_GE(got, 1000u);
  // Frames cleared count as gone; a stopped writer answers false.
  w.send(response_frame(3));
  const auto control = w.queued_position(frame_writer::lane::control);
  EXPECT_TRUE(test::run_for(ctx, [&]() -> awaitable<bool> {
    w.clear();
    co_return co_await w.wait_written(frame_writer::lane::control, control);
  }()));
  w.send(response_frame(4));
  w.stop();
  EXPECT_FALSE(test::run_for(ctx, w.wait_written(frame_writer::lane::control, control + 1)));
}

}  // namespace
}  // namespace tether
