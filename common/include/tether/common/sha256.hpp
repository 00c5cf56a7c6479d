// SHA-256 (FIPS 180-4), incremental. Both ends of a file transfer hash the
// bytes they move; a self-contained implementation keeps the agent free of
// a crypto library dependency.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tether {

class sha256 {
 public:
  using digest = std::array<std::uint8_t, 32>;

  sha256() { reset(); }
  void reset();
  void update(std::string_view data);
  void update(const void* data, std::size_t size) {
    update(std::string_view(static_cast<const char*>(data), size));
  }
  // The digest of everything updated so far; the object must be reset()
  // before reuse.
  digest finish();

  static digest of(std::string_view data) {
    sha256 h;
    h.update(data);
    return h.finish();
  }
  static std::string hex(const digest& d);
  static std::string bytes(const digest& d) { return std::string(d.begin(), d.end()); }

 private:
  void block(const std::uint8_t* p);
  std::uint32_t h_[8];
  std::uint8_t buf_[64];
  std::size_t buffered_ = 0;
  std::uint64_t total_ = 0;
};

}  // namespace tether
