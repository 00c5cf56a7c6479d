#include "services/info_service.hpp"

#include <gtest/gtest.h>

namespace tether::agent {
namespace {

TEST(ParseOsRelease, ReadsQuotedAndBareValuesAndSkipsComments) {
  auto m = parse_os_release(
      "# comment\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"
      "VERSION_ID='12'\nBAD LINE\n=novalue\nESCAPED=\"a \\\"q\\\" b\"\n");
  EXPECT_EQ(m["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(m["ID"], "debian");
  EXPECT_EQ(m["VERSION_ID"], "12");
  EXPECT_EQ(m["ESCAPED"], "a \"q\" b");
  EXPECT_EQ(m.size(), 4u);
}

TEST(ParseOsRelease, ToleratesEmptyInputAndUnterminatedQuotes) {
  EXPECT_TRUE(parse_os_release("").empty());
  EXPECT_EQ(parse_os_release("X=\"open")["X"], "open");
}

}  // namespace
}  // namespace tether::agent
