#include "json_out.hpp"

#include <cmath>
#include <iostream>

namespace tetherctl::json {

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    char32_t cp, min;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07, min = 0x10000;
    else return false;
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Overlong forms, UTF-16 surrogates and code points beyond Unicode are
    // not UTF-8 (RFC 3629).
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string base64(std::string_view bytes) {
  static constexpr char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    for (int shift : {18, 12, 6, 0}) out += digits[(v >> shift) & 63];
  }
  if (const std::size_t rest = bytes.size() - i) {
    const std::uint32_t v = (p[i] << 16) | (rest == 2 ? p[i + 1] << 8 : 0);
    out += digits[(v >> 18) & 63];
    out += digits[(v >> 12) & 63];
    out += rest == 2 ? digits[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

// The rule, applied to a whole document in place.
void encode(bj::value& v) {
  switch (v.kind()) {
    case bj::kind::string:
      if (!valid_utf8(v.get_string())) v = bj::object{{"base64", base64(v.get_string())}};
      break;
    case bj::kind::double_:
      if (!std::isfinite(v.get_double())) v = nullptr;
      break;
    case bj::kind::array:
      for (auto& e : v.get_array()) encode(e);
      break;
    case bj::kind::object: {
      auto& o = v.get_object();
      // Keys cannot be objects: one that is not UTF-8 (udev and os-release
      // keys are ASCII; protobuf map keys are UTF-8) is marked and encoded.
      bool keys_ok = true;
      for (auto& [k, e] : o) {
        keys_ok = keys_ok && valid_utf8(k);
        encode(e);
      }
      if (!keys_ok) {
        bj::object fixed;
        for (auto& [k, e] : o) fixed.emplace(valid_utf8(k) ? std::string(k) : "base64:" + base64(k), std::move(e));
        o = std::move(fixed);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

void print(bj::value v) {
  encode(v);
  std::cout << bj::serialize(v) << std::endl;
}

}  // namespace tetherctl::json
