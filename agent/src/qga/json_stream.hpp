// Splitting the host's byte stream into QGA requests, as qemu-ga's JSON
// streamer does: a request is one top-level JSON value, found by counting
// braces and brackets outside strings; newlines are only whitespace (libvirt
// ends each request with one, other clients send none, or split a request
// over lines). Checked against Debian 12's qemu-ga 7.2:
//  - a 0xFF byte is never valid JSON: it drops whatever was pending and
//    answers one parse error; clients send it to reset the agent's parser
//    before guest-sync-delimited (and drop everything up to the 0xFF that
//    precedes its reply);
//  - a top-level scalar ("str", 123) or stray closer is one value, which
//    then fails as "not a JSON object" or as a parse error;
//  - nesting and size are limited. Past a limit the request is answered
//    with an error once and the rest of it is skipped without being kept
//    (until its brackets close, or a 0xFF resets), so memory stays bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tether::agent::qga {

struct stream_limits {
  // qemu-ga's streamer allows 64 MiB tokens; guest-file-write carries its
  // data in one request, base64 (4/3 of the bytes), so keep the same room.
  std::size_t max_request_bytes = 64u << 20;
  std::size_t max_depth = 1024;  // qemu's MAX_NESTING
};

// One item cut from the stream: the text of a complete value, or an error
// the agent answers at once (class GenericError).
struct stream_item {
  bool error = false;
  std::string text;  // the value's text, or the error's description
};

class json_stream {
 public:
  explicit json_stream(stream_limits limits = {}) : limits_(limits) {}

  // Consumes `bytes`, appending complete items to `out` in stream order.
  void feed(std::span<const std::uint8_t> bytes, std::vector<stream_item>& out);

  // Bytes held for an incomplete value.
  std::size_t pending() const { return buf_.size(); }

 private:
  void reset();
  void emit(std::vector<stream_item>& out);

  stream_limits limits_;
  std::string buf_;
  std::size_t depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
  bool scalar_ = false;     // a top-level value that is not an object or array
  bool skipping_ = false;   // past a limit: the rest of this value is dropped
};

}  // namespace tether::agent::qga
