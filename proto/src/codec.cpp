#include "tether/wire/codec.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tether::wire {

void append_preamble(std::string& out) {
  out.append(reinterpret_cast<const char*>(preamble.data()), preamble.size());
}

void append_frame(std::string& out, const v1::Frame& frame) {
  const std::size_t len = frame.ByteSizeLong();
  if (len > UINT32_MAX) throw std::length_error("tether frame over 4 GiB");
  const std::size_t at = out.size();
  out.resize(at + frame_header_size + len);
  auto* p = reinterpret_cast<std::uint8_t*>(out.data() + at);
  p[0] = frame_magic[0];
  p[1] = frame_magic[1];
  const auto n = static_cast<std::uint32_t>(len);
  p[2] = static_cast<std::uint8_t>(n);
  p[3] = static_cast<std::uint8_t>(n >> 8);
  p[4] = static_cast<std::uint8_t>(n >> 16);
  p[5] = static_cast<std::uint8_t>(n >> 24);
  frame.SerializeWithCachedSizesToArray(p + frame_header_size);
}

namespace {

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) v >>= 7, ++n;
  return n;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

}  // namespace

void append_data_frame_head(std::string& out, std::uint64_t call_id, std::uint32_t stream, std::size_t size) {
  // proto3 leaves zero scalars and empty bytes out, as protobuf does.
  // StreamData: 1 call_id (varint), 2 stream (varint), 3 data (bytes, last:
  // what follows the head is its value).
  std::size_t inner = 0;
  if (call_id) inner += 1 + varint_size(call_id);
  if (stream) inner += 1 + varint_size(stream);
  if (size) inner += 1 + varint_size(size) + size;
  // Frame: 4 data (message; present even when empty).
  const std::size_t len = 1 + varint_size(inner) + inner;
  if (len > UINT32_MAX) throw std::length_error("tether frame over 4 GiB");
  const auto n = static_cast<std::uint32_t>(len);
  const char header[frame_header_size] = {static_cast<char>(frame_magic[0]), static_cast<char>(frame_magic[1]),
                                          static_cast<char>(n),              static_cast<char>(n >> 8),
                                          static_cast<char>(n >> 16),        static_cast<char>(n >> 24)};
  out.append(header, frame_header_size);
  out.push_back(static_cast<char>((4 << 3) | 2));
  put_varint(out, inner);
  if (call_id) {
    out.push_back(static_cast<char>((1 << 3) | 0));
    put_varint(out, call_id);
  }
  if (stream) {
    out.push_back(static_cast<char>((2 << 3) | 0));
    put_varint(out, stream);
  }
  if (size) {
    out.push_back(static_cast<char>((3 << 3) | 2));
    put_varint(out, size);
  }
}

void append_data_frame(std::string& out, std::uint64_t call_id, std::uint32_t stream, std::string_view data) {
  out.reserve(out.size() + max_data_frame_head + data.size());
  append_data_frame_head(out, call_id, stream, data.size());
  out.append(data);
}

std::string encode_frame(const v1::Frame& frame) {
  std::string s;
  append_frame(s, frame);
  return s;
}

frame_decoder::frame_decoder(options opts) : opts_(opts) {}

std::span<std::uint8_t> frame_decoder::prepare(std::size_t min_bytes) {
  if (capacity_ - end_ < min_bytes) {
    // Compact first; grow only when a whole frame needs the room.
    if (begin_ > 0) {
      std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (capacity_ - end_ < min_bytes) {
      auto bigger = std::make_unique_for_overwrite<std::uint8_t[]>(end_ + min_bytes);
      if (end_ > 0) std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger);
      capacity_ = end_ + min_bytes;
    }
  }
  return {buf_.get() + end_, capacity_ - end_};
}

void frame_decoder::commit(std::size_t n) {
  if (n > capacity_ - end_) throw std::out_of_range("frame_decoder::commit");
  end_ += n;
}

void frame_decoder::feed(std::span<const std::uint8_t> bytes) {
  auto room = prepare(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void frame_decoder::feed(std::string_view bytes) {
  feed(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

void frame_decoder::reset() {
  state_ = state::seeking;
  skip_remaining_ = 0;
  begin_ = end_ = 0;
}

// Drops bytes up to the next preamble. Returns true when one was consumed.
bool frame_decoder::seek_preamble() {
  auto d = data();
  auto it = std::search(d.begin(), d.end(), preamble.begin(), preamble.end());
  if (it != d.end()) {
    const auto skipped = static_cast<std::size_t>(it - d.begin());
    discarded_ += skipped;
    consume(skipped + preamble.size());
    return true;
  }
  // Keep a tail that could be the start of a preamble split across reads.
  std::size_t keep = std::min(d.size(), preamble.size() - 1);
  while (keep > 0 &&
         !std::equal(d.end() - static_cast<std::ptrdiff_t>(keep), d.end(), preamble.begin()))
    --keep;
  discarded_ += d.size() - keep;
  consume(d.size() - keep);
  return false;
}

std::optional<frame_decoder::item> frame_decoder::next() {
  for (;;) {
    switch (state_) {
      case state::seeking:
        if (!seek_preamble()) return std::nullopt;
        state_ = state::synced;
        return item{.what = item::kind::preamble};

      case state::skipping: {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(skip_remaining_, end_ - begin_));
        consume(n);
        discarded_ += n;
        skip_remaining_ -= n;
        if (skip_remaining_ > 0) return std::nullopt;
        state_ = state::synced;
        continue;
      }

      case state::synced: {
        auto d = data();
        if (d.empty()) return std::nullopt;
        if (d[0] == preamble[0]) {
          // A new preamble at a frame boundary: the peer restarted.
          const std::size_t n = std::min(d.size(), preamble.size());
          if (!std::equal(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n), preamble.begin())) {
            state_ = state::seeking;
            return item{.what = item::kind::error, .error = codec_error::bad_frame_magic};
          }
          if (n < preamble.size()) return std::nullopt;
          consume(preamble.size());
          return item{.what = item::kind::preamble};
        }
        if (d[0] != frame_magic[0] || (d.size() > 1 && d[1] != frame_magic[1])) {
          state_ = state::seeking;
          return item{.what = item::kind::error, .error = codec_error::bad_frame_magic};
        }
        if (d.size() < frame_header_size) return std::nullopt;
        const std::uint32_t len = std::uint32_t(d[2]) | std::uint32_t(d[3]) << 8 |
                                  std::uint32_t(d[4]) << 16 | std::uint32_t(d[5]) << 24;
        if (len > opts_.max_frame_size) {
          consume(frame_header_size);
          state_ = state::skipping;
          skip_remaining_ = len;
          return item{.what = item::kind::error, .error = codec_error::frame_too_large,
                      .length = len};
        }
        if (d.size() < frame_header_size + len) {
          // Make sure the next read can complete the frame.
          return std::nullopt;
        }
        item it{.what = item::kind::frame};
        const bool ok = it.frame.ParseFromArray(d.data() + frame_header_size, static_cast<int>(len));
        consume(frame_header_size + len);
        if (!ok) return item{.what = item::kind::error, .error = codec_error::malformed_frame, .length = len};
        return it;
      }
    }
  }
}

}  // namespace tether::wire
