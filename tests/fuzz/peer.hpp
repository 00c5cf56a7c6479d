// The fuzzer's end of a tether connection: turns input records into bytes
// on the stream (records.hpp), and reads everything the other side writes,
// which must always be well-formed frames.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "drive.hpp"
#include "quiet_protobuf.hpp"
#include "records.hpp"
#include "tether/common/frames.hpp"
#include "tether/common/memory_stream.hpp"
#include "tether/wire/codec.hpp"
#include "writer.hpp"

namespace tether::fuzz {

// What a step sends (op % 4 == 3 is the target's own step).
enum class step { hello, frame, raw, other };
inline step step_of(const record& r) { return static_cast<step>(r.op % 4); }

// The bytes of a hello or frame step. A Hello gets `role` and `nonce` when
// the input left them empty (a hostile peer that knows the protocol), and
// goes after a preamble; a body that is not a Frame is sent framed as it is.
inline std::string bytes_of(const record& r, v1::Hello::Role role, const std::string& nonce) {
  if (step_of(r) == step::hello) {
    v1::Frame f;
    auto* h = f.mutable_hello();
    (void)h->ParseFromArray(r.body.data(), static_cast<int>(r.body.size()));
    if (h->role() == v1::Hello::ROLE_UNSPECIFIED) h->set_role(role);
    if (h->nonce().empty()) h->set_nonce(nonce);
    return frames::with_preamble(f);
  }
  if (step_of(r) == step::frame) {
    v1::Frame f;
    if (f.ParseFromArray(r.body.data(), static_cast<int>(r.body.size()))) return wire::encode_frame(f);
    std::string out(wire::frame_magic.begin(), wire::frame_magic.end());
    const auto n = static_cast<std::uint32_t>(r.body.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
    out.append(r.body);
    return out;
  }
  return std::string(r.body);
}

// Reads the other side's output until the stream ends: every byte must be a
// preamble or a frame (no garbage, nothing over `max_frame`).
struct reader {
  explicit reader(std::uint32_t max_frame) : decoder({.max_frame_size = max_frame}) {}
  wire::frame_decoder decoder;
  std::vector<v1::Frame> hellos;  // the Hellos received, in order
  std::uint64_t frames = 0;
  bool done = false;

  awaitable<void> run(io::byte_stream& s) {
    try {
      for (;;) {
        const std::size_t n = co_await s.read_some(decoder.prepare(64 * 1024));
        decoder.commit(n);
        while (auto item = decoder.next()) {
          check(item->what != wire::frame_decoder::item::kind::error, "the peer writes only valid frames");
          if (item->what != wire::frame_decoder::item::kind::frame) continue;
          ++frames;
          if (item->frame.has_hello()) hellos.push_back(std::move(item->frame));
        }
      }
    } catch (const boost::system::system_error&) {
      // eof or the stream closed
    }
    done = true;
  }
};

}  // namespace tether::fuzz
