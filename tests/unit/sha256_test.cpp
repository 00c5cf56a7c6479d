#include "tether/common/sha256.hpp"

#include <gtest/gtest.h>

namespace tether {
namespace {

std::string hex_of(std::string_view s) { return sha256::hex(sha256::of(s)); }

TEST(Sha256, MatchesFips180Vectors) {
  EXPECT_EQ(hex_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex_of(std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, GivesTheSameDigestWhateverTheChunking) {
  std::string data(100'003, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + 7);
  const auto whole = sha256::of(data);
  for (std::size_t step : {1u, 63u, 64u, 65u, 4096u, 99'999u}) {
    sha256 h;
    for (std::size_t off = 0; off < data.size(); off += step) h.update(std::string_view(data).substr(off, step));
    EXPECT_EQ(h.finish(), whole) << step;
  }
}

TEST(Sha256, HandlesEveryPaddingBoundary) {
  // 55, 56 and 64 byte messages straddle the length field.
  EXPECT_EQ(hex_of(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(hex_of(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(hex_of(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

}  // namespace
}  // namespace tether
