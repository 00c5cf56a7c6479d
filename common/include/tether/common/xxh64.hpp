// XXH64 (Yann Collet's xxHash, 64-bit variant), incremental. A fast
// non-cryptographic checksum: file transfers use it on request to verify
// that the bytes arrived intact (it catches corruption, not tampering;
// SHA-256 is the default). Implemented here from the published algorithm
// (xxhash.h / doc/xxhash_spec.md); digests match `xxhsum -H1`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tether {

class xxh64 {
 public:
  // The canonical form: the 64-bit value big-endian, as xxhsum prints it.
  using digest = std::array<std::uint8_t, 8>;

  explicit xxh64(std::uint64_t seed = 0) { reset(seed); }
  void reset(std::uint64_t seed = 0);
  void update(std::string_view data);
  void update(const void* data, std::size_t size) {
    update(std::string_view(static_cast<const char*>(data), size));
  }
  // The hash of everything updated so far (the state is left as it was:
  // more updates may follow).
  std::uint64_t value() const;
  digest finish() const { return canonical(value()); }

  static std::uint64_t of(std::string_view data, std::uint64_t seed = 0) {
    xxh64 h(seed);
    h.update(data);
    return h.value();
  }
  static digest canonical(std::uint64_t v);
  static std::string hex(const digest& d);
  static std::string bytes(const digest& d) { return std::string(d.begin(), d.end()); }

 private:
  std::uint64_t v_[4];
  std::uint64_t seed_ = 0;
  std::uint64_t total_ = 0;
  std::uint8_t buf_[32];
  std::size_t buffered_ = 0;
};

}  // namespace tether
