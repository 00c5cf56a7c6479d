#include "qga/json_stream.hpp"

namespace tether::agent::qga {
namespace {

bool is_space(std::uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_structural(std::uint8_t c) { return c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':'; }

}  // namespace

void json_stream::reset() {
  buf_.clear();
  depth_ = 0;
  in_string_ = escape_ = scalar_ = skipping_ = false;
}

void json_stream::emit(std::vector<stream_item>& out) {
  if (!skipping_) out.push_back({false, std::move(buf_)});
  reset();
}

void json_stream::feed(std::span<const std::uint8_t> bytes, std::vector<stream_item>& out) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const std::uint8_t c = bytes[i];
    if (c == 0xFF) {
      // The client's reset: whatever was pending is dropped, answered once.
      out.push_back({true, "JSON parse error, stray '\\xFF' (pending input dropped)"});
      reset();
      continue;
    }
    const bool idle = depth_ == 0 && !in_string_ && !scalar_ && buf_.empty() && !skipping_;
    if (idle) {
      if (is_space(c)) continue;
      if (c == '}' || c == ']' || c == ',' || c == ':') {
        out.push_back({true, "JSON parse error, expecting value"});
        continue;
      }
      if (c != '{' && c != '[') scalar_ = true;
    }
    if (scalar_ && !in_string_) {
      // A top-level scalar ends before whitespace or structure (a string at
      // its closing quote, below).
      if (!buf_.empty() && (is_space(c) || is_structural(c))) {
        emit(out);
        --i;  // this byte starts what follows
        continue;
      }
    }
    if (!skipping_) {
      if (buf_.size() >= limits_.max_request_bytes) {
        out.push_back({true, "JSON token size limit exceeded"});
        buf_.clear();
        skipping_ = true;
      } else {
        buf_.push_back(static_cast<char>(c));
      }
    }
    if (in_string_) {
      if (escape_) escape_ = false;
      else if (c == '\\') escape_ = true;
      else if (c == '"') {
        in_string_ = false;
        if (scalar_) emit(out);
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (++depth_ > limits_.max_depth && !skipping_) {
        out.push_back({true, "JSON nesting depth limit exceeded"});
        buf_.clear();
        skipping_ = true;
      }
    } else if (c == '}' || c == ']') {
      if (depth_ > 0 && --depth_ == 0) emit(out);
    }
  }
}

}  // namespace tether::agent::qga
