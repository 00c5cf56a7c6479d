#include "tether/common/checksum.hpp"

namespace tether {

checksum::checksum(checksum_kind kind) : kind_(kind) {
  if (kind == checksum_kind::xxh64) state_.emplace<xxh64>();
}

void checksum::update(std::string_view data) {
  std::visit([&](auto& h) { h.update(data); }, state_);
}

std::string checksum::finish() {
  return std::visit(
      [](auto& h) {
        const auto d = h.finish();
        return std::string(d.begin(), d.end());
      },
      state_);
}

std::optional<checksum_kind> checksum::parse(std::string_view name) {
  if (name == "sha256") return checksum_kind::sha256;
  if (name == "xxh64") return checksum_kind::xxh64;
  return std::nullopt;
}

std::string checksum::hex(std::string_view digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest.size() * 2);
  for (unsigned char b : digest) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace tether
