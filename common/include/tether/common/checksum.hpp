// The checksum a file transfer is verified with, chosen per call: SHA-256
// (the default; also detects deliberate tampering) or XXH64 (catches
// corruption, costs far less CPU: what makes a slow, emulated guest move
// files near the speed of the channel).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tether/common/sha256.hpp"
#include "tether/common/xxh64.hpp"
#include "tether/v1/files.pb.h"

namespace tether {

enum class checksum_kind { sha256, xxh64 };

class checksum {
 public:
  explicit checksum(checksum_kind kind);
  checksum_kind kind() const { return kind_; }
  void update(std::string_view data);
  // The raw digest (32 bytes for SHA-256, 8 for XXH64, big-endian) of
  // everything updated so far. Call once.
  std::string finish();

  static std::size_t digest_size(checksum_kind kind) { return kind == checksum_kind::sha256 ? 32 : 8; }
  static std::string_view name(checksum_kind kind) { return kind == checksum_kind::sha256 ? "sha256" : "xxh64"; }
  // "sha256" / "xxh64" (what --checksum takes); nullopt for anything else.
  static std::optional<checksum_kind> parse(std::string_view name);

 private:
  checksum_kind kind_;
  std::variant<sha256, xxh64> state_;
};

// The wire enum (files.proto) and back; nullopt for a value this build does
// not know (proto3 enums carry any number).
std::optional<checksum_kind> checksum_kind_from(v1::Checksum c);
v1::Checksum to_proto(checksum_kind kind);

}  // namespace tether
