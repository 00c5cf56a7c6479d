// The frame decoder (proto/src/codec.cpp): bytes in pieces of any size give
// preambles, frames and errors, it never buffers more than one maximum frame
// plus one read, and every frame it yields encodes and decodes again.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include <google/protobuf/util/message_differencer.h>

#include "check.hpp"
#include "quiet_protobuf.hpp"
#include "tether/wire/codec.hpp"

namespace {

using tether::wire::frame_decoder;

using tether::fuzz::check;

void check_round_trip(const tether::v1::Frame& f) {
  std::string bytes;
  tether::wire::append_preamble(bytes);  // a fresh decoder seeks one first
  tether::wire::append_frame(bytes, f);
  // (Re-encoding may grow a frame: a negative int32 sent in 5 bytes takes 10.)
  frame_decoder again({.max_frame_size = 64u << 20});
  again.feed(bytes);
  auto item = again.next();
  check(item && item->what == frame_decoder::item::kind::preamble);
  item = again.next();
  check(item && item->what == frame_decoder::item::kind::frame);
  check(google::protobuf::util::MessageDifferencer::Equals(item->frame, f));
  check(!again.next());
  // The bulk path's shortcut encodes a data frame byte for byte the same.
  if (f.has_data()) {
    tether::v1::Frame plain;
    auto* d = plain.mutable_data();
    d->set_call_id(f.data().call_id());
    d->set_stream(f.data().stream());
    d->set_data(f.data().data());
    std::string fast;
    tether::wire::append_data_frame(fast, d->call_id(), d->stream(), d->data());
    check(fast == tether::wire::encode_frame(plain));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tether::fuzz::quiet_protobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // First byte: the limit (small ones reach the oversize path); second: the
  // size of the pieces the bytes arrive in.
  const std::uint32_t max_frame = data[0] < 128 ? 64u * (data[0] + 1) : tether::wire::default_max_frame_size;
  const std::size_t piece = 1 + data[1] % 64 * (data[1] >= 128 ? 1024 : 1);
  data += 2;
  size -= 2;
  frame_decoder dec({.max_frame_size = max_frame});
  std::size_t at = 0;
  while (at < size) {
    const std::size_t n = std::min(piece, size - at);
    auto room = dec.prepare(n);
    check(room.size() >= n);
    std::copy_n(data + at, n, room.begin());
    dec.commit(n);
    at += n;
    while (auto item = dec.next()) {
      if (item->what == frame_decoder::item::kind::frame) check_round_trip(item->frame);
      check(dec.buffered_bytes() <= max_frame + tether::wire::frame_header_size + piece);
    }
    check(dec.buffered_bytes() <= max_frame + tether::wire::frame_header_size + piece);
  }
  return 0;
}
