// The checksum a file transfer is verified with, chosen per call. It guards
// against corruption (bugs, bad memory, a short read): the peer computes its
// own digest, so no algorithm protects against the peer itself.
//   xxh64     8 bytes; what hosts ask for by default: the cheapest for an
//             emulated guest (TCG: ~700 MB/s, XXH3's SIMD code ~150 MB/s)
//   xxh3_128  16 bytes, XXH3-128 (the faster one on hardware with SIMD)
//   sha256    32 bytes; for comparing with a digest published elsewhere
// The hashing is done by well-kept libraries (OpenSSL's libcrypto for
// SHA-256, libxxhash for XXH64 and XXH3), never by our own code; their
// types stay out of this header.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tether/v1/files.pb.h"

namespace tether {

enum class checksum_kind { sha256, xxh64, xxh3_128 };

class checksum {
 public:
  explicit checksum(checksum_kind kind);
  ~checksum();
  checksum(checksum&&) noexcept;
  checksum& operator=(checksum&&) noexcept;

  checksum_kind kind() const { return kind_; }
  void update(std::string_view data);
  // The raw digest of everything updated so far, in the canonical
  // (big-endian) form sha256sum, xxhsum -H1 and xxh128sum print. Call once.
  std::string finish();

  // The raw digest of `data` in one call.
  static std::string of(checksum_kind kind, std::string_view data);
  static std::size_t digest_size(checksum_kind kind);
  static std::string_view name(checksum_kind kind);
  // "xxh3" (also "xxh3_128", "xxh128"), "xxh64", "sha256"; nullopt for
  // anything else.
  static std::optional<checksum_kind> parse(std::string_view name);

 private:
  struct state;
  checksum_kind kind_;
  std::unique_ptr<state> state_;
};

// The wire enum (files.proto) and back; nullopt for a value this build does
// not know (proto3 enums carry any number).
std::optional<checksum_kind> checksum_kind_from(v1::Checksum c);
v1::Checksum to_proto(checksum_kind kind);

}  // namespace tether
