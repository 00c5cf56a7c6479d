// Framing shared by agent and host: preamble, length-prefixed frames, and a
// decoder that resynchronises on the preamble.
//
//   preamble = FF 'T' 'E' 'T' 'H' 'E' 'R' 01
//   frame    = 54 F7 | u32 LE payload length | serialized tether.v1.Frame
//
// The decoder never buffers more than one maximum-size frame plus one read,
// whatever the peer sends: oversize frames are skipped without buffering.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tether/v1/frame.pb.h"
#include "tether/wire/error.hpp"

namespace tether::wire {

inline constexpr std::array<std::uint8_t, 8> preamble = {0xFF, 'T', 'E', 'T',
                                                          'H',  'E', 'R', 0x01};
inline constexpr std::array<std::uint8_t, 2> frame_magic = {0x54, 0xF7};
inline constexpr std::size_t frame_header_size = 6;
inline constexpr std::uint32_t protocol_version = 1;
// Default largest payload a receiver accepts. Data frames carry at most
// max_data_chunk bytes, well below it.
inline constexpr std::uint32_t default_max_frame_size = 1u << 20;
inline constexpr std::size_t max_data_chunk = 64 * 1024;

void append_preamble(std::string& out);
// Appends one encoded frame (header + payload) to `out`.
void append_frame(std::string& out, const v1::Frame& frame);
std::string encode_frame(const v1::Frame& frame);
// Appends the frame append_frame would for Frame{data: StreamData{call_id,
// stream, data}}, byte for byte, copying `data` once: the bulk path (file
// and exec output) skips the message object's copy and the zero-fill.
void append_data_frame(std::string& out, std::uint64_t call_id, std::uint32_t stream, std::string_view data);
// The bytes of that frame before `data` (`size` = data's length): the head
// and the payload may then travel as separate buffers (no copy of the
// payload), the wire bytes are the same.
void append_data_frame_head(std::string& out, std::uint64_t call_id, std::uint32_t stream, std::size_t size);
// The longest such head: frame header, two tags and lengths, two varints.
inline constexpr std::size_t max_data_frame_head = frame_header_size + 1 + 5 + 1 + 10 + 1 + 5 + 1 + 10;

class frame_decoder {
 public:
  struct options {
    std::uint32_t max_frame_size = default_max_frame_size;
  };

  struct item {
    enum class kind { preamble, frame, error };
    kind what = kind::frame;
    v1::Frame frame;           // kind::frame
    codec_error error{};       // kind::error
    std::uint64_t length = 0;  // kind::error: declared length, if known
  };

  frame_decoder() : frame_decoder(options{}) {}
  explicit frame_decoder(options opts);

  // Writable space for at least `min_bytes`; pass the number actually
  // written to commit().
  std::span<std::uint8_t> prepare(std::size_t min_bytes);
  void commit(std::size_t n);
  // prepare + copy + commit.
  void feed(std::span<const std::uint8_t> bytes);
  void feed(std::string_view bytes);

  // The next preamble, frame or error; nullopt when more bytes are needed.
  // After an error the decoder recovers by itself: an oversize frame is
  // skipped, a bad header makes it seek the next preamble.
  std::optional<item> next();

  // Forget everything buffered and seek a preamble (new connection).
  void reset();

  bool synced() const noexcept { return state_ == state::synced; }
  // Bytes thrown away while seeking a preamble or skipping oversize frames.
  std::uint64_t discarded_bytes() const noexcept { return discarded_; }
  std::size_t buffered_bytes() const noexcept { return end_ - begin_; }

 private:
  enum class state { seeking, synced, skipping };
  std::span<const std::uint8_t> data() const {
    return {buf_.get() + begin_, end_ - begin_};
  }
  void consume(std::size_t n) { begin_ += n; }
  bool seek_preamble();

  options opts_;
  state state_ = state::seeking;
  std::uint64_t skip_remaining_ = 0;
  std::uint64_t discarded_ = 0;
  // Not zero-filled (a read fills what it reports): a session's first read
  // asks for 256 KiB room, most of which a short connection never touches.
  std::unique_ptr<std::uint8_t[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace tether::wire
