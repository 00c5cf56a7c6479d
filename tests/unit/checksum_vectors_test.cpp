// Known-answer tests of the three transfer checksums through the libraries
// that compute them (libcrypto, libxxhash). SHA-256: the FIPS 180-2
// examples. XXH64 and XXH3-128: computed independently with `xxhsum -H1` and
// `xxh128sum` (Debian package xxhash 0.8.1), the SHA-256 of the same inputs
// with `sha256sum`, once, here.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "tether/common/checksum.hpp"
#include "tether/common/hex.hpp"

namespace tether {
namespace {

std::string hex_of(checksum_kind kind, std::string_view s) { return to_hex(checksum::of(kind, s)); }

// Byte i is (i * 131 + 7) mod 256.
std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + 7);
  return s;
}

struct vector {
  std::string input;
  const char* xxh64;
  const char* xxh3_128;
  const char* sha256;
};

const std::array<vector, 6> texts{{
    {"", "ef46db3751d8e999", "99aa06d3014798d86001c324468d497f",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"a", "d24ec4f1a98c6e5b", "a96faf705af16834e6c632b61e964e1f",
     "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"},
    {"abc", "44bc2cf5ad770999", "06b05ab6733a618578af5f94892f3950",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"message digest", "066ed728fceeb3be", "34ab715d95e3b6490abfabecb8e3a424",
     "f7846f55cf23e14eebeab5b4e1550cad5b509e3348fbc4efa3a1413d393cb650"},
    {"The quick brown fox jumps over the lazy dog", "0b242d361fda71bc", "ddd650205ca3e7fa24a1cc2e3a8a7651",
     "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
    {std::string(1'000'000, 'a'), "dc483aaa9b4fdc40", "a545df8e384a9579b1fd6fae5285c4eb",
     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
}};

// Lengths around each algorithm's steps: XXH3's 0-3/4-8/9-16/17-128/129-240
// short-input paths and its striped loop; XXH64's 4/8/32-byte steps;
// SHA-256's 64-byte blocks.
const std::array<std::pair<std::size_t, vector>, 13> patterns{{
    {1, {"", "a96c7f0ce858bbb7", "495b62073ef70ca44c5cca45d0f4811f",
         "ca358758f6d27e6cf45272937977a748fd88391db679ceda7dc7bf1f005ee879"}},
    {3, {"", "bed43740ee6332bb", "390cdc5b4a895dd76e3e2670e61106ac",
         "17aef23a39d753e713c203c152454d29fa8e39a98e83a69b39a5094dba9ae951"}},
    {4, {"", "fa212ae44b3bb23d", "aa6e2f274640a3f43d668af6f2a44d77",
         "2aad11f94736f39dd139082c65f4b03537584e4a49221847e098238ddc6d153f"}},
    {8, {"", "994b676b71ce94dd", "6a86a3bda6af4e3d61ddbe7f31a6100d",
         "dcbc821bb9a36f997efeabf7764797402a041575c40539ea9d549503d3225409"}},
    {9, {"", "572b84c18b983af8", "664c7ca18afd62558c7b67fd458a936b",
         "24a1108979c137efa170e71c7f5d843874c1d3b39f812100569f10b1996f62c1"}},
    {16, {"", "94ad0095e72b24d5", "7f9a218b0425449ae2ce54a7c19c730d",
          "bf1bb93d74f56e14ad36b4e45c1a7c75a32d93df95150c3e280a45bc7623420c"}},
    {17, {"", "1464f2eff23b5fe1", "66fc23f6439dbd778d96ef110fcdebb4",
          "6cf6584e0380783b1420a41616c7802cbe7f6ae72ea91c00e52c530e7a243ca5"}},
    {128, {"", "0430e433b792e757", "aec730751478556cff361dec1385710a",
           "485a94e53eba9717a5d8b7b4489cad92a752f1c5722e7dfd29dd164b7c438d11"}},
    {129, {"", "1f9708e5a00618fa", "98cd36ccbb5579264545b3a09738e31a",
           "72b63785704123441e7405a2620b859d1f107604ef5882e2674e82cc40d173a6"}},
    {240, {"", "ca0b65cc61295ca7", "5293e17bf553903d3f2c53e72293711f",
           "e9cbd1e2cfd9f90dd2272d9bf459cebe02f6abffb15edac328d21e051853548a"}},
    {241, {"", "0ffefe0dfc875cf4", "b53840fe3fedf161956cae592c67279e",
           "476b63798768ea8282db4b461cadb8860df2893609244b8c59537dc8bfe272d6"}},
    {1024, {"", "5960af0c625acfb7", "f69630613f24324d70bd377d9574f4bb",
            "583860e60cae1aad49d6cb0f5e604ade00da2d3cb4ae9b7b022ccf45c476d426"}},
    {100'003, {"", "b50ad3cd166fe52b", "6f6fc5c14d9fa2bad0a8e7c7a03ad008",
               "bbfad4f95f90d384d555f3df407b8abd654b51131434e1bdca5cda29038f40d1"}},
}};

TEST(ChecksumVectors, Sha256MatchesTheFips180Examples) {
  EXPECT_EQ(hex_of(checksum_kind::sha256, "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_of(checksum_kind::sha256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex_of(checksum_kind::sha256, std::string(1'000'000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(ChecksumVectors, EveryAlgorithmMatchesTheReferenceToolsOnTexts) {
  for (const auto& v : texts) {
    const auto what = v.input.substr(0, 20);
    EXPECT_EQ(hex_of(checksum_kind::xxh64, v.input), v.xxh64) << what;
    EXPECT_EQ(hex_of(checksum_kind::xxh3_128, v.input), v.xxh3_128) << what;
    EXPECT_EQ(hex_of(checksum_kind::sha256, v.input), v.sha256) << what;
  }
}

TEST(ChecksumVectors, EveryAlgorithmMatchesTheReferenceToolsAtItsBoundaries) {
  for (const auto& [n, v] : patterns) {
    const std::string data = pattern(n);
    EXPECT_EQ(hex_of(checksum_kind::xxh64, data), v.xxh64) << n;
    EXPECT_EQ(hex_of(checksum_kind::xxh3_128, data), v.xxh3_128) << n;
    EXPECT_EQ(hex_of(checksum_kind::sha256, data), v.sha256) << n;
  }
}

TEST(ChecksumVectors, TheDigestDoesNotDependOnHowTheBytesAreCut) {
  const std::string data = pattern(100'003);
  for (auto kind : {checksum_kind::sha256, checksum_kind::xxh64, checksum_kind::xxh3_128}) {
    const std::string whole = checksum::of(kind, data);
    for (std::size_t step : {1u, 63u, 64u, 65u, 255u, 4096u, 99'999u}) {
      checksum h(kind);
      for (std::size_t off = 0; off < data.size(); off += step) h.update(std::string_view(data).substr(off, step));
      EXPECT_EQ(h.finish(), whole) << checksum::name(kind) << " in steps of " << step;
    }
  }
}

}  // namespace
}  // namespace tether
