#include "tether/common/xxh64.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace tether {
namespace {

// Expected values from `xxhsum -H1` (xxHash 0.8.1, Debian package xxhash),
// seed 0, generated once; xxhash is not a build dependency.
std::string hex_of(std::string_view s) { return xxh64::hex(xxh64::canonical(xxh64::of(s))); }

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + 7);
  return s;
}

TEST(Xxh64, MatchesXxhsumVectors) {
  EXPECT_EQ(hex_of(""), "ef46db3751d8e999");
  EXPECT_EQ(hex_of("a"), "d24ec4f1a98c6e5b");
  EXPECT_EQ(hex_of("abc"), "44bc2cf5ad770999");
  EXPECT_EQ(hex_of("message digest"), "066ed728fceeb3be");
  EXPECT_EQ(hex_of("The quick brown fox jumps over the lazy dog"), "0b242d361fda71bc");
  EXPECT_EQ(hex_of(std::string(1'000'000, 'a')), "dc483aaa9b4fdc40");
  EXPECT_EQ(hex_of(pattern(100'003)), "b50ad3cd166fe52b");
  EXPECT_EQ(xxh64::of(""), 0xEF46DB3751D8E999ULL);
}

TEST(Xxh64, CoversEveryTailAndStripeBoundary) {
  // Lengths around the 4-, 8- and 32-byte steps of the algorithm.
  const std::pair<std::size_t, const char*> vectors[] = {
      {3, "bed43740ee6332bb"},  {4, "fa212ae44b3bb23d"},  {7, "2744460dd675d2c0"},  {8, "994b676b71ce94dd"},
      {11, "97f078da7a1a590c"}, {31, "6711d55e306b5d8f"}, {32, "07f7b8e3bc5d6e25"}, {33, "09f85eeb4e1cbe9f"},
      {63, "b7c9968c066cb6a5"}, {64, "50d4159a0411632e"}, {65, "d277176bff863efc"}, {100, "9ddada11d3dc2d8f"}};
  for (const auto& [n, expected] : vectors) EXPECT_EQ(hex_of(pattern(n)), expected) << n;
}

TEST(Xxh64, GivesTheSameDigestWhateverTheChunking) {
  const std::string data = pattern(100'003);
  const auto whole = xxh64::of(data);
  for (std::size_t step : {1u, 7u, 31u, 32u, 33u, 4096u, 99'999u}) {
    xxh64 h;
    for (std::size_t off = 0; off < data.size(); off += step) h.update(std::string_view(data).substr(off, step));
    EXPECT_EQ(h.value(), whole) << step;
  }
}

TEST(Xxh64, ValueDoesNotEndTheStream) {
  xxh64 h;
  h.update("message ");
  EXPECT_EQ(h.value(), xxh64::of("message "));
  h.update("digest");
  EXPECT_EQ(xxh64::hex(h.finish()), "066ed728fceeb3be");
}

TEST(Xxh64, SeedChangesTheHash) {
  EXPECT_NE(xxh64::of("abc", 1), xxh64::of("abc"));
  xxh64 h(1);
  h.update("abc");
  EXPECT_EQ(h.value(), xxh64::of("abc", 1));
}

}  // namespace
}  // namespace tether
