#include "tether/wire/codec.hpp"

#include <gtest/gtest.h>

namespace tether::wire {
namespace {

using kind = frame_decoder::item::kind;

v1::Frame ping_request(std::uint64_t id, std::size_t payload_size = 0) {
  v1::Frame f;
  f.mutable_request()->set_call_id(id);
  f.mutable_request()->set_method("ping.Ping");
  f.mutable_request()->set_payload(std::string(payload_size, 'x'));
  return f;
}

std::string preamble_bytes() {
  std::string s;
  append_preamble(s);
  return s;
}

std::vector<frame_decoder::item> drain(frame_decoder& d) {
  std::vector<frame_decoder::item> out;
  while (auto it = d.next()) out.push_back(std::move(*it));
  return out;
}

TEST(FrameDecoder, DecodesPreambleThenFrames) {
  frame_decoder d;
  d.feed(preamble_bytes() + encode_frame(ping_request(1)) + encode_frame(ping_request(2)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].what, kind::preamble);
  EXPECT_EQ(items[1].frame.request().call_id(), 1u);
  EXPECT_EQ(items[2].frame.request().call_id(), 2u);
  EXPECT_EQ(d.buffered_bytes(), 0u);
}

TEST(FrameDecoder, ReassemblesFramesSplitAtEveryByte) {
  const std::string all = preamble_bytes() + encode_frame(ping_request(7, 300)) +
                          encode_frame(ping_request(8));
  frame_decoder d;
  std::vector<frame_decoder::item> items;
  for (char c : all) {
    d.feed(std::string_view(&c, 1));
    for (auto& it : drain(d)) items.push_back(std::move(it));
  }
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].frame.request().payload().size(), 300u);
  EXPECT_EQ(items[2].frame.request().call_id(), 8u);
}

TEST(FrameDecoder, DecodesManyFramesFromOneRead) {
  std::string all = preamble_bytes();
  for (int i = 0; i < 1000; ++i) append_frame(all, ping_request(i));
  frame_decoder d;
  d.feed(all);
  auto items = drain(d);
  ASSERT_EQ(items.size(), 1001u);
  EXPECT_EQ(items.back().frame.request().call_id(), 999u);
}

TEST(FrameDecoder, SkipsGarbageBeforeThePreamble) {
  frame_decoder d;
  std::string garbage = "\x54\xF7junk\xFF\xFFTETH" + std::string(1000, '\0');
  d.feed(garbage + preamble_bytes() + encode_frame(ping_request(3)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].what, kind::preamble);
  EXPECT_EQ(items[1].frame.request().call_id(), 3u);
  EXPECT_EQ(d.discarded_bytes(), garbage.size());
}

TEST(FrameDecoder, FindsAPreambleSplitAcrossReads) {
  frame_decoder d;
  const std::string p = preamble_bytes();
  d.feed("garbage" + p.substr(0, 5));
  EXPECT_TRUE(drain(d).empty());
  d.feed(p.substr(5) + encode_frame(ping_request(4)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].frame.request().call_id(), 4u);
}

TEST(FrameDecoder, ReportsOversizeFrameSkipsItAndContinues) {
  frame_decoder d({.max_frame_size = 1024});
  d.feed(preamble_bytes());
  d.feed(encode_frame(ping_request(1, 5000)));
  d.feed(encode_frame(ping_request(2)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].what, kind::error);
  EXPECT_EQ(items[1].error, codec_error::frame_too_large);
  EXPECT_GT(items[1].length, 5000u);
  EXPECT_EQ(items[2].frame.request().call_id(), 2u);
}

TEST(FrameDecoder, NeverBuffersAnOversizeFrame) {
  frame_decoder d({.max_frame_size = 1024});
  d.feed(preamble_bytes());
  ASSERT_EQ(drain(d).size(), 1u);
  // Declares 1 GiB and streams it in: the decoder must discard as it goes.
  std::string header = {char(0x54), char(0xF7), 0, 0, 0, 0x40};
  d.feed(header);
  EXPECT_EQ(drain(d).front().error, codec_error::frame_too_large);
  const std::string chunk(64 * 1024, 'z');
  for (int i = 0; i < 64; ++i) {
    d.feed(chunk);
    EXPECT_TRUE(drain(d).empty());
    EXPECT_LE(d.buffered_bytes(), chunk.size());
  }
}

TEST(FrameDecoder, WaitsForTheRestOfATruncatedFrame) {
  frame_decoder d;
  const std::string f = encode_frame(ping_request(9, 100));
  d.feed(preamble_bytes() + f.substr(0, f.size() - 1));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 1u);  // just the preamble
  d.feed(f.substr(f.size() - 1));
  items = drain(d);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].frame.request().call_id(), 9u);
}

TEST(FrameDecoder, ResynchronisesAfterABadFrameHeader) {
  frame_decoder d;
  d.feed(preamble_bytes() + "XX" + encode_frame(ping_request(1)) + preamble_bytes() +
         encode_frame(ping_request(2)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[1].what, kind::error);
  EXPECT_EQ(items[1].error, codec_error::bad_frame_magic);
  // Frame 1 after the bad header is lost with the sync; frame 2 follows the
  // next preamble.
  EXPECT_EQ(items[2].what, kind::preamble);
  EXPECT_EQ(items[3].frame.request().call_id(), 2u);
}

TEST(FrameDecoder, ReportsAMalformedPayloadAndStaysInSync) {
  frame_decoder d;
  std::string bad = {char(0x54), char(0xF7), 3, 0, 0, 0, char(0xFF), char(0xFF), char(0xFF)};
  d.feed(preamble_bytes() + bad + encode_frame(ping_request(5)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[1].error, codec_error::malformed_frame);
  EXPECT_EQ(items[2].frame.request().call_id(), 5u);
}

TEST(FrameDecoder, TreatsAPreambleAtAFrameBoundaryAsARestart) {
  frame_decoder d;
  d.feed(preamble_bytes() + encode_frame(ping_request(1)) + preamble_bytes() +
         encode_frame(ping_request(2)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[2].what, kind::preamble);
}

TEST(FrameDecoder, ResetDropsBufferedBytes) {
  frame_decoder d;
  const std::string f = encode_frame(ping_request(1));
  d.feed(preamble_bytes() + f.substr(0, 4));
  drain(d);
  d.reset();
  d.feed(f.substr(4));  // the rest of the old frame is now garbage
  EXPECT_TRUE(drain(d).empty());
  d.feed(preamble_bytes() + encode_frame(ping_request(2)));
  auto items = drain(d);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].frame.request().call_id(), 2u);
}

TEST(RemoteCategory, NamesAndDescribesWireErrorCodes) {
  EXPECT_EQ(error_code_name(v1::ERROR_CODE_NOT_FOUND), "NOT_FOUND");
  EXPECT_EQ(make_error_code(v1::ERROR_CODE_DISABLED_BY_CONFIG).message(), "disabled by configuration");
}

}  // namespace
}  // namespace tether::wire

namespace tether::wire {
namespace {

TEST(DataFrameEncoder, MatchesTheMessageEncodingByteForByte) {
  const std::string big(70'000, 'z');
  for (std::uint64_t call_id : {0ull, 1ull, 127ull, 128ull, 300ull, 1ull << 40, ~0ull}) {
    for (std::uint32_t stream : {0u, 1u, 2u, 200u, ~0u}) {
      for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{127}, std::size_t{128},
                               std::size_t{16'384}, std::size_t{65'536}, big.size()}) {
        v1::Frame f;
        auto* d = f.mutable_data();
        d->set_call_id(call_id);
        d->set_stream(stream);
        d->set_data(big.substr(0, size));
        std::string want = "prefix", got = "prefix";
        append_frame(want, f);
        append_data_frame(got, call_id, stream, std::string_view(big).substr(0, size));
        ASSERT_EQ(got, want) << call_id << " " << stream << " " << size;
      }
    }
  }
}

}  // namespace
}  // namespace tether::wire

namespace tether::wire {
namespace {

// The head alone, sent before a payload kept in another buffer: the real
// decoder reads head + payload as the StreamData it names, for lengths on
// each side of the varint boundaries (1, 2 and 3 byte lengths).
TEST(DataFrameHead, DecodesWithItsPayloadAcrossVarintBoundaries) {
  std::string payload(2'100'000, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7);
  frame_decoder decoder({.max_frame_size = 4u << 20});
  decoder.feed(preamble_bytes());
  ASSERT_EQ(decoder.next()->what, frame_decoder::item::kind::preamble);
  for (std::uint64_t call_id : {1ull, 127ull, 128ull, ~0ull}) {
    for (std::uint32_t stream : {0u, 1u, 128u}) {
      for (std::size_t size : {std::size_t{1}, std::size_t{127}, std::size_t{128}, std::size_t{16'383},
                               std::size_t{16'384}, std::size_t{65'536}, std::size_t{2'097'151},
                               std::size_t{2'097'152}}) {
        std::string head;
        append_data_frame_head(head, call_id, stream, size);
        ASSERT_LE(head.size(), max_data_frame_head);
        decoder.feed(head);
        decoder.feed(std::string_view(payload).substr(0, size));
        auto item = decoder.next();
        ASSERT_TRUE(item) << call_id << " " << stream << " " << size;
        ASSERT_EQ(item->what, frame_decoder::item::kind::frame);
        ASSERT_TRUE(item->frame.has_data());
        EXPECT_EQ(item->frame.data().call_id(), call_id);
        EXPECT_EQ(item->frame.data().stream(), stream);
        EXPECT_EQ(item->frame.data().data(), std::string_view(payload).substr(0, size));
        EXPECT_FALSE(decoder.next());
      }
    }
  }
}

}  // namespace
}  // namespace tether::wire
