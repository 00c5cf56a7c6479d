#include "files/test_fault.hpp"

#include <cstdlib>

namespace tether::agent::files {

std::optional<std::uint64_t> test_corrupt_byte() {
  static const std::optional<std::uint64_t> n = []() -> std::optional<std::uint64_t> {
    const char* v = std::getenv("TETHER_TEST_CORRUPT_BYTE");
    if (!v || !*v) return std::nullopt;
    char* end = nullptr;
    const auto parsed = std::strtoull(v, &end, 10);
    if (*end) return std::nullopt;
    return parsed;
  }();
  return n;
}

bool test_corrupt(std::string& chunk, std::uint64_t at) {
  const auto n = test_corrupt_byte();
  if (!n || *n < at || *n - at >= chunk.size()) return false;
  chunk[static_cast<std::size_t>(*n - at)] ^= 0x01;
  return true;
}

}  // namespace tether::agent::files
