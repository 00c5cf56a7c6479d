// The audit trail where the guest's administrator reads it: in the Debian
// guest (systemd, journald), `journalctl -u tether-agent` shows one line per
// host call, refusals at warning priority, with structured TETHER_* fields.
#include <random>

#include "support/async.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;

class AnAuditedGuest : public test::vm_client_test {
 protected:
  // Distinct in every run: the guest's journal may hold older runs' lines.
  const std::string marker = "audit-" + std::to_string(std::random_device{}());

  // A shell command in the guest, through tether's own exec.
  std::string guest_sh(const std::string& script) {
    const auto r = run_for(ctx, exec::run(guest_client, {.argv = {"/bin/sh", "-c", script}}), 180s);
    EXPECT_EQ(r.result.exit_code, 0) << script << ": " << r.err;
    return r.out;
  }

  // journalctl of the agent's unit with `args`, after journald has stored
  // everything sent so far (--sync returns once it has).
  std::string journal(const std::string& args) {
    return guest_sh("journalctl --sync && journalctl -u tether-agent.service --no-pager " + args);
  }
};

TEST_F(AnAuditedGuest, ShowsAnExecAnUploadAndARefusedCallInTheJournal) {
  EXPECT_EQ(guest_sh("echo " + marker), marker + "\n");
  run_for(ctx, files::upload_bytes(guest_client, "audited", "/tmp/" + marker), 180s);
  const auto refused = test::error_of(ctx, guest_client.call(marker + ".Nothing", ""), "unknown method");
  EXPECT_EQ(refused.remote_code(), remote_errc::unknown_method) << refused.what();

  const auto all = journal("-o cat");
  EXPECT_NE(all.find("audit: exec.Run /bin/sh -c \"echo " + marker + "\" -> OK (call "), std::string::npos) << all;
  EXPECT_NE(all.find("audit: files.Upload /tmp/" + marker + " -> OK (call "), std::string::npos) << all;
  const std::string refusal = "audit: " + marker + ".Nothing -> UNKNOWN_METHOD: unknown method '";
  EXPECT_NE(all.find(refusal), std::string::npos) << all;

  // The refusal is a warning; the calls that succeeded are not.
  const auto warnings = journal("-p warning -o cat");
  EXPECT_NE(warnings.find(refusal), std::string::npos) << warnings;
  EXPECT_EQ(warnings.find("audit: files.Upload /tmp/" + marker), std::string::npos) << warnings;

  // Structured fields, for filtering without parsing the message.
  const auto fields = journal("-o verbose TETHER_METHOD=files.Upload TETHER_TARGET=/tmp/" + marker);
  EXPECT_NE(fields.find("TETHER_RESULT=OK"), std::string::npos) << fields;
  EXPECT_NE(fields.find("PRIORITY=6"), std::string::npos) << fields;
  EXPECT_NE(fields.find("TETHER_SESSION="), std::string::npos) << fields;
  EXPECT_NE(fields.find("SYSLOG_IDENTIFIER=tether-agent"), std::string::npos) << fields;
}

}  // namespace
}  // namespace tether
