// The read side of a connection, as both agent and host run it: read the
// stream into the decoder and hand every decoded item (preamble, frame or
// framing error) to the caller, until the stream ends or fails.
#pragma once

#include <type_traits>

#include "tether/common/byte_stream.hpp"
#include "tether/wire/codec.hpp"

namespace tether {

// Bytes asked of the stream per read: many frames per wake-up.
inline constexpr std::size_t read_chunk_bytes = 256 * 1024;

struct no_pacing {};

// Runs until the stream throws (asio::error::eof when the peer closed, or
// operation_aborted) or `on_item` throws; never returns normally.
// `on_item(wire::frame_decoder::item&)` is called for each item in order.
// `pace()`, if given, is awaited before every read: a reader that must not
// take more input while its peer does not read its answers waits there.
template <class OnItem, class Pace = no_pacing>
awaitable<void> read_frames(io::byte_stream& stream, wire::frame_decoder& decoder, OnItem on_item,
                            Pace pace = {}) {
  for (;;) {
    if constexpr (!std::is_same_v<Pace, no_pacing>) co_await pace();
    auto room = decoder.prepare(read_chunk_bytes);
    const std::size_t n = co_await stream.read_some(room);
    decoder.commit(n);
    while (auto item = decoder.next()) on_item(*item);
  }
}

}  // namespace tether
