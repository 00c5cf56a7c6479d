#include "tether/common/utf8.hpp"

#include <gtest/gtest.h>

namespace tether {
namespace {

const std::string replacement = "\xEF\xBF\xBD";

TEST(ValidUtf8, LeavesValidTextAsItIs) {
  for (const std::string s : std::initializer_list<std::string>{"", "plain ascii", "gr\xC3\xBC\xC3\x9F", "\xE2\x82\xAC 5", "\xF0\x9F\x98\x80",
                              "\xF4\x8F\xBF\xBF", std::string("nul\0inside", 10)})
    EXPECT_EQ(valid_utf8(s), s);
}

TEST(ValidUtf8, ReplacesEachByteOfAnInvalidSequence) {
  EXPECT_EQ(valid_utf8("a\xFF" "b"), "a" + replacement + "b");
  EXPECT_EQ(valid_utf8("\xC3"), replacement);                                  // cut short
  EXPECT_EQ(valid_utf8("\xC0\xAF"), replacement + replacement);                // overlong
  EXPECT_EQ(valid_utf8("\xED\xA0\x80"), replacement + replacement + replacement);  // surrogate
  EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), replacement + replacement + replacement + replacement);  // > U+10FFFF
  EXPECT_EQ(valid_utf8("\x80\xC3\xBC"), replacement + "\xC3\xBC");
}

}  // namespace
}  // namespace tether
