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

std::optional<checksum_kind> checksum_kind_from(v1::Checksum c) {
  switch (c) {
    case v1::CHECKSUM_SHA256: return checksum_kind::sha256;
    case v1::CHECKSUM_XXH64: return checksum_kind::xxh64;
    default: return std::nullopt;
  }
}

v1::Checksum to_proto(checksum_kind kind) {
  return kind == checksum_kind::xxh64 ? v1::CHECKSUM_XXH64 : v1::CHECKSUM_SHA256;
}

}  // namespace tether
