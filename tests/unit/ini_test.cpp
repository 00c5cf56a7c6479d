#include "tether/common/ini.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace tether::ini {
namespace {

using namespace std::string_literals;
using kind = line::kind;

TEST(AnIniText, YieldsSectionsAndPairsWithTheirLineNumbers) {
  const auto lines = parse("# head\n\n[ one ]\n  a = 1\nb=x=y\n[two]\nc =\n");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0].what, kind::section);
  EXPECT_EQ(lines[0].section, "one");
  EXPECT_EQ(lines[0].number, 3u);
  EXPECT_EQ(lines[1].what, kind::pair);
  EXPECT_EQ(lines[1].dotted(), "one.a");
  EXPECT_EQ(lines[1].value, "1");
  EXPECT_EQ(lines[1].number, 4u);
  EXPECT_EQ(lines[2].key, "b");
  EXPECT_EQ(lines[2].value, "x=y");
  EXPECT_EQ(lines[3].section, "two");
  EXPECT_EQ(lines[4].dotted(), "two.c");
  EXPECT_EQ(lines[4].value, "");
  EXPECT_EQ(lines[4].number, 7u);
}

TEST(AnIniText, PutsKeysBeforeTheFirstHeaderInTheEmptySection) {
  const auto lines = parse("socket = /s\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].section, "");
  EXPECT_EQ(lines[0].dotted(), "socket");
}

TEST(AnIniText, EndsACommentAtTheLineEndAndStartsItOnlyAtTheStartOrAfterABlank) {
  const auto lines = parse("\t# indented\nq = /run/qmp#1.sock  # the monitor\n[s] # header\nr = a\t#b\nt = #\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].value, "/run/qmp#1.sock");
  EXPECT_EQ(lines[1].what, kind::section);
  EXPECT_EQ(lines[1].section, "s");
  EXPECT_EQ(lines[2].value, "a");
  EXPECT_EQ(lines[3].value, "");
}

TEST(AnIniText, AcceptsCrlfLineEnds) {
  const auto lines = parse("[a]\r\nk = v \r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].value, "v");
}

TEST(AnIniText, ReportsEachBadLineAndGoesOn) {
  const auto lines = parse("[open\njunk\n= 1\nk = \x01\n"s + std::string(20, 'x') + "\nj = 1\n[b]\nk = 2\n[]\nk = 3\n",
                           {.max_file_bytes = 1024, .max_line_bytes = 16});
  std::vector<std::pair<std::size_t, line_error>> errors;
  std::vector<std::string> messages;
  for (const auto& l : lines)
    if (l.what == kind::error) {
      errors.emplace_back(l.number, l.error);
      messages.push_back(l.message);
    }
  EXPECT_EQ(errors, (std::vector<std::pair<std::size_t, line_error>>{{1, line_error::unclosed_section},
                                                                     {2, line_error::not_a_pair},
                                                                     {3, line_error::missing_key},
                                                                     {4, line_error::control_character},
                                                                     {5, line_error::too_long}}));
  EXPECT_EQ(messages, (std::vector<std::string>{"a section header needs a closing ']'",
                                                "expected 'key = value', a [section] header or a # comment",
                                                "missing key before '='", "contains a control character",
                                                "is longer than 16 bytes"}));
  EXPECT_EQ(lines[1].text, "junk");
  // k in [b] and in [] are different keys, and so valid.
  EXPECT_EQ(lines.back().what, kind::pair);
  EXPECT_EQ(lines.back().dotted(), "k");
}

TEST(AnIniText, RefusesAKeySetTwiceInOneSectionEvenUnderTwoHeaders) {
  const auto lines = parse("[a]\nk = 1\n[b]\nk = 1\n[a]\nk = 2\n");
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[3].what, kind::pair);
  const auto& dup = lines[5];
  EXPECT_EQ(dup.what, kind::error);
  EXPECT_EQ(dup.error, line_error::duplicate_key);
  EXPECT_EQ(dup.first, 2u);
  EXPECT_EQ(dup.message, "a.k is set twice (first on line 2)");
}

TEST(AnIniList, SplitsOnCommasAndRefusesEmptyItems) {
  EXPECT_EQ(split_list(" a , b,c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_list("  ").empty());
  EXPECT_THROW(split_list("a,,b"), std::invalid_argument);
  EXPECT_THROW(split_list("a,"), std::invalid_argument);
}

class AConfigFileRead : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tether-ini-test-XXXXXX";
    ASSERT_TRUE(::mkdtemp(tmpl));
    dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string dir;

  file_error::reason reason_of(const std::string& path, std::size_t max) {
    try {
      read_file(path, max);
    } catch (const file_error& e) {
      return e.why();
    }
    ADD_FAILURE() << path << " must be refused";
    return {};
  }
};

TEST_F(AConfigFileRead, ReturnsTheTextUpToTheLimit) {
  std::ofstream(dir + "/a.conf") << "k = v\n";
  EXPECT_EQ(read_file(dir + "/a.conf", 6), "k = v\n");
  EXPECT_EQ(reason_of(dir + "/a.conf", 5), file_error::reason::too_large);
  EXPECT_EQ(read_file("/dev/null", 1), "");
}

TEST_F(AConfigFileRead, RefusesMissingFilesDirectoriesFifosAndDevices) {
  try {
    read_file(dir + "/missing.conf", 100);
    ADD_FAILURE() << "a missing file must be refused";
  } catch (const file_error& e) {
    EXPECT_EQ(e.why(), file_error::reason::cannot_open);
    EXPECT_EQ(e.error_number(), ENOENT);
    EXPECT_EQ(std::string(e.what()), "cannot open config file: No such file or directory");
  }
  EXPECT_EQ(reason_of(dir, 100), file_error::reason::not_regular);
  ASSERT_EQ(::mkfifo((dir + "/fifo.conf").c_str(), 0600), 0);
  EXPECT_EQ(reason_of(dir + "/fifo.conf", 100), file_error::reason::not_regular);  // without blocking
  EXPECT_EQ(reason_of("/dev/zero", 100), file_error::reason::not_regular);
}

}  // namespace
}  // namespace tether::ini
