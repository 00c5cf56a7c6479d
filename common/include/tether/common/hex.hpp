// Lower-case hex of raw bytes: how digests are shown (as sha256sum and
// xxhsum print them).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tether {

inline std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

inline std::string to_hex(const unsigned char* data, std::size_t size) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(data), size));
}

}  // namespace tether
