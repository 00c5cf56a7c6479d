// forward_refusal: which socket paths forward.Open may connect to.
#include "services/forward_service.hpp"

#include <gtest/gtest.h>

namespace tether::agent {
namespace {

const forward_policy vms{.patterns = {"/run/vms/*/tether.sock"}, .source = "/etc/tether/agent.conf"};

TEST(AForwardPolicy, AllowsAPathItsPatternMatches) {
  EXPECT_EQ(forward_refusal(vms, "/run/vms/l2/tether.sock"), "");
}

TEST(AForwardPolicy, KeepsAStarInsideOnePathComponent) {
  EXPECT_NE(forward_refusal(vms, "/run/vms/a/b/tether.sock"), "");
  EXPECT_NE(forward_refusal(vms, "/run/vms/.hidden/tether.sock"), "");  // as a shell glob: no leading dot
}

TEST(AForwardPolicy, RefusesPathsThatAreNotAbsoluteAndPlainNamingPathAndKey) {
  for (const std::string p : {"run/vms/l2/tether.sock", "/run/vms/../vms/l2/tether.sock", "/run/vms/./l2/tether.sock",
                              "/run/vms//l2/tether.sock", "", "/run/vms/l2/tether.sock/"}) {
    const auto why = forward_refusal(vms, p);
    EXPECT_NE(why, "") << p;
    EXPECT_NE(why.find("'" + p + "'"), std::string::npos) << why;
    EXPECT_NE(why.find("forward.sockets in /etc/tether/agent.conf"), std::string::npos) << why;
  }
}

TEST(AForwardPolicy, RefusesWhatNoPatternMatchesListingThePatterns) {
  const auto why = forward_refusal(vms, "/run/other/tether.sock");
  EXPECT_EQ(why, "forward to '/run/other/tether.sock' refused: no pattern of forward.sockets in "
                 "/etc/tether/agent.conf matches it (/run/vms/*/tether.sock)");
  EXPECT_NE(forward_refusal({}, "/run/vms/l2/tether.sock").find("none listed"), std::string::npos);
}

}  // namespace
}  // namespace tether::agent
