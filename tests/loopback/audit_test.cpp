// The audit trail end to end: the real agent binary, driven by libtether,
// writes one stderr line per host call (not under journald here), at the
// priority its result calls for.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/agent_process.hpp"
#include "support/async.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"

namespace tether {
namespace {

using test::run_for;

std::vector<std::string> audit_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.find(": audit: ") != std::string::npos) out.push_back(l);
  return out;
}

// The line that starts with `head`, or a failure listing what there is.
std::string line_starting(const std::vector<std::string>& lines, const std::string& head) {
  for (const auto& l : lines)
    if (l.starts_with(head)) return l;
  std::string all;
  for (const auto& l : lines) all += "  " + l + "\n";
  ADD_FAILURE() << "no audit line starting with\n  " << head << "\namong\n" << all;
  return {};
}

class AnAuditedAgent : public ::testing::Test {
 protected:
  explicit AnAuditedAgent(std::vector<std::string> extra = {}) : agent(args(std::move(extra)), 10s, true) {}

  std::vector<std::string> args(std::vector<std::string> extra) {
    std::ofstream(dir.path() + "/agent.conf") << "[services]\ndeny = stats\n[files]\nroots = " + root() + "\n";
    std::vector<std::string> a = {"--config", dir.path() + "/agent.conf"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::string root() const { return dir.path(); }

  // Runs the three calls the audit must show: an exec, an upload, and calls
  // the agent refuses (a denied service, a path outside the roots, an
  // unknown method).
  void make_calls() {
    const auto r = run_for(ctx, exec::run(guest, {.argv = {"echo", "audit me", "\x1b[2J"}}));
    ASSERT_EQ(r.out, "audit me \x1b[2J\n");
    run_for(ctx, files::upload_bytes(guest, "data", root() + "/up.txt"));
    EXPECT_TRUE(test::error_of(ctx, guest.call("stats.Get", ""), "stats.Get").is_remote());
    EXPECT_TRUE(test::error_of(ctx, files::upload_bytes(guest, "x", "/etc/tether-audit-test"), "upload").is_remote());
    EXPECT_TRUE(test::error_of(ctx, guest.call("no.Such\nmethod", ""), "unknown").is_remote());
  }

  test::temp_dir dir;
  test::agent_process agent;
  asio::io_context ctx;
  client guest{ctx.get_executor(), {.socket_path = agent.socket_path(), .call_timeout = 10s}};
};

TEST_F(AnAuditedAgent, LogsEachCallWithItsTargetAndResultAndRefusalsAsWarnings) {
  make_calls();
  // Each line is written before the call's reply is sent: all are there now.
  const auto lines = audit_lines(agent.stderr_text());
  const std::string exec = line_starting(lines, "tether-agent: info: audit: exec.Run echo \"audit me\" \\x1b[2J -> OK (call ");
  const std::string upload = line_starting(lines, "tether-agent: info: audit: files.Upload " + root() + "/up.txt -> OK (call ");
  const std::string denied = line_starting(
      lines, "tether-agent: warning: audit: stats.Get -> DISABLED_BY_CONFIG: stats.Get is disabled by the agent's "
             "configuration");
  const std::string outside = line_starting(
      lines, "tether-agent: warning: audit: files.Upload /etc/tether-audit-test -> DISABLED_BY_CONFIG: ");
  const std::string unknown =
      line_starting(lines, "tether-agent: warning: audit: no.Such\\nmethod -> UNKNOWN_METHOD: unknown method 'no.Such");
  EXPECT_NE(unknown.find("'no.Such\\nmethod'"), std::string::npos) << unknown;  // the message is escaped too
  EXPECT_EQ(lines.size(), 5u);
}

class AnAgentWithAuditOff : public AnAuditedAgent {
 protected:
  AnAgentWithAuditOff() : AnAuditedAgent({"--audit", "off"}) {}
};

TEST_F(AnAgentWithAuditOff, LogsNoAuditLines) {
  make_calls();
  EXPECT_EQ(audit_lines(agent.stderr_text()), std::vector<std::string>{});
}

}  // namespace
}  // namespace tether
