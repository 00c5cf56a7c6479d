// The audit trail's pieces: the text of a line (escaping, quoting,
// truncation), the rate limit (a token bucket on an injected clock), and
// the log that puts them together, captured through its sink.
#include "audit/audit_log.hpp"

#include <gtest/gtest.h>

#include "audit/audit_text.hpp"
#include "audit/token_bucket.hpp"

namespace tether::agent::audit {
namespace {

using namespace std::chrono_literals;
using clock = token_bucket::clock;

TEST(AuditText, EscapesControlBytesBackslashesAndInvalidUtf8ButKeepsValidUtf8) {
  EXPECT_EQ(escaped("plain /etc/passwd"), "plain /etc/passwd");
  EXPECT_EQ(escaped("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(escaped("\x1b[31mred\x7f"), "\\x1b[31mred\\x7f");
  EXPECT_EQ(escaped(std::string("nul\0byte", 8)), "nul\\x00byte");
  EXPECT_EQ(escaped("back\\slash"), "back\\\\slash");
  EXPECT_EQ(escaped("Grüße 日本 🙂"), "Grüße 日本 🙂");
  EXPECT_EQ(escaped("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(escaped("cut \xc3"), "cut \\xc3");               // truncated sequence
  EXPECT_EQ(escaped("\xc0\xaf"), "\\xc0\\xaf");              // overlong '/'
  EXPECT_EQ(escaped("\xed\xa0\x80"), "\\xed\\xa0\\x80");     // surrogate
  EXPECT_EQ(escaped("csi\xc2\x9b" "2J"), "csi\\xc2\\x9b2J");  // C1 control U+009B
}

TEST(AuditText, QuotesWordsThatAreEmptyOrHoldBlanksOrQuotes) {
  const std::vector<std::string> argv = {"sh", "-c", "echo \"hi\" there", "", "it's"};
  EXPECT_EQ(words(argv), "sh -c \"echo \\\"hi\\\" there\" \"\" \"it's\"");
  EXPECT_EQ(words(std::vector<std::string>{"rm", "-rf", "/tmp/x\ny"}), "rm -rf /tmp/x\\ny");
  EXPECT_EQ(words(std::vector<std::string>{}), "");
}

TEST(AuditText, CutsLongTextBetweenEscapesAndCountsWhatItLeftOut) {
  EXPECT_EQ(escaped("abcdef", 6), "abcdef");
  EXPECT_EQ(escaped("abcdefgh", 6), "abcdef...(+2 bytes)");
  // "ab\x1b" escapes to "ab\\x1b" (6 bytes): a limit of 4 keeps "ab", never half an escape.
  EXPECT_EQ(escaped("ab\x1bz", 4), "ab...(+5 bytes)");
  // Nor half a character: "é" is two bytes.
  EXPECT_EQ(escaped("aé", 2), "a...(+2 bytes)");
  // Words are bounded as a whole, at the documented length by default.
  const std::vector<std::string> many(200, "word");
  const std::string w = words(many);
  EXPECT_EQ(w.substr(0, 10), "word word ");
  EXPECT_LE(w.find("..."), max_text_bytes);
  EXPECT_EQ(w.substr(w.find("...")), "...(+" + std::to_string(200 * 5 - 1 - w.find("...")) + " bytes)");
}

TEST(TokenBucket, AllowsABurstThenTheRateAndNeverMoreThanTheBurst) {
  const auto t0 = clock::time_point{} + 1h;
  token_bucket b(3, 2, t0);  // 3 at once, 2 per second
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 400ms));  // 0.8 of a token
  EXPECT_TRUE(b.take(t0 + 500ms));
  EXPECT_FALSE(b.take(t0 + 500ms));
  // A long pause refills to the burst, not beyond.
  const auto t1 = t0 + 1h;
  int taken = 0;
  while (b.take(t1)) ++taken;
  EXPECT_EQ(taken, 3);
  // A clock that steps back takes nothing and gives nothing.
  EXPECT_FALSE(b.take(t0));
}

struct captured {
  std::vector<line> lines;
  audit_log::sink sink() {
    return [this](const line& l) { lines.push_back(l); };
  }
};

std::string field(const line& l, const std::string& key) {
  for (const auto& [k, v] : l.fields)
    if (k == key) return v;
  return "(none)";
}

TEST(AuditLog, WritesMethodTargetAndResultAsMessageAndFields) {
  const std::string session("\x01\x02\xab\xcd\xef\x00\x11\x22", 8);
  const call_record r{.method = "exec.Run",
                      .target = {"echo", "hi there", "\x1b[2J"},
                      .session_id = session,
                      .call_id = 42};
  const line l = format(r);
  EXPECT_EQ(l.priority, log::level::info);
  EXPECT_EQ(l.message, "audit: exec.Run echo \"hi there\" \\x1b[2J -> OK (call 42, session 0102abcd)");
  EXPECT_EQ(field(l, "TETHER_METHOD"), "exec.Run");
  EXPECT_EQ(field(l, "TETHER_CALL_ID"), "42");
  EXPECT_EQ(field(l, "TETHER_SESSION"), "0102abcdef001122");
  EXPECT_EQ(field(l, "TETHER_TARGET"), "echo \"hi there\" \\x1b[2J");
  EXPECT_EQ(field(l, "TETHER_RESULT"), "OK");
  EXPECT_EQ(field(l, "TETHER_ERROR"), "(none)");
}

TEST(AuditLog, GivesRefusalsWarningOtherErrorsNoticeAndEscapesTheErrorAndTheMethod) {
  const line denied = format({.method = "files.Upload",
                              .target = {"/etc/shadow"},
                              .call_id = 7,
                              .code = v1::ERROR_CODE_PERMISSION_DENIED,
                              .message = "outside files.roots\nforged line"});
  EXPECT_EQ(denied.priority, log::level::warning);
  EXPECT_EQ(denied.message,
            "audit: files.Upload /etc/shadow -> PERMISSION_DENIED: outside files.roots\\nforged line (call 7, session )");
  EXPECT_EQ(field(denied, "TETHER_RESULT"), "PERMISSION_DENIED");
  EXPECT_EQ(field(denied, "TETHER_ERROR"), "outside files.roots\\nforged line");
  EXPECT_EQ(priority_for(v1::ERROR_CODE_DISABLED_BY_CONFIG), log::level::warning);
  EXPECT_EQ(priority_for(v1::ERROR_CODE_UNKNOWN_METHOD), log::level::warning);
  EXPECT_EQ(priority_for(v1::ERROR_CODE_NOT_FOUND), log::level::notice);
  EXPECT_EQ(priority_for(v1::ERROR_CODE_CANCELLED), log::level::notice);
  const line unknown = format({.method = "no\x1bsuch", .code = v1::ERROR_CODE_UNKNOWN_METHOD, .message = "unknown"});
  EXPECT_EQ(unknown.message, "audit: no\\x1bsuch -> UNKNOWN_METHOD: unknown (call 0, session )");
  EXPECT_EQ(result_name(static_cast<v1::ErrorCode>(9999)), "ERROR_9999");
}

TEST(AuditLog, HoldsBackLinesBeyondTheRateAndCountsThemWhenLinesFlowAgain) {
  captured out;
  auto now = clock::time_point{} + 1h;
  audit_log log(out.sink(), [&] { return now; }, {.burst = 5, .per_second = 1});
  const call_record r{.method = "ping.Ping"};
  int admitted = 0;
  for (int i = 0; i < 1000; ++i)
    if (log.admit()) {
      ++admitted;
      log.write(r);
    }
  EXPECT_EQ(admitted, 5);
  ASSERT_EQ(out.lines.size(), 5u);

  now += 1s;  // one token back
  ASSERT_TRUE(log.admit());
  log.write(r);
  ASSERT_EQ(out.lines.size(), 7u);
  EXPECT_EQ(out.lines[5].priority, log::level::warning);
  EXPECT_EQ(out.lines[5].message,
            "audit: 995 audit lines suppressed (rate limit: 5 lines at once, 1 per second)");
  EXPECT_EQ(field(out.lines[5], "TETHER_SUPPRESSED"), "995");
  EXPECT_EQ(out.lines[6].message.substr(0, 21), "audit: ping.Ping -> O");

  // The count starts again: the next suppression reports only its own lines.
  EXPECT_FALSE(log.admit());
  EXPECT_FALSE(log.admit());
  now += 1s;
  ASSERT_TRUE(log.admit());
  EXPECT_EQ(out.lines.back().message.substr(0, 9), "audit: 2 ");
}

TEST(AuditLog, ReportsLinesStillHeldBackWhenItEnds) {
  captured out;
  const auto now = clock::time_point{} + 1h;
  {
    audit_log log(out.sink(), [&] { return now; }, {.burst = 1, .per_second = 1});
    EXPECT_TRUE(log.admit());
    EXPECT_FALSE(log.admit());
    EXPECT_FALSE(log.admit());
    EXPECT_TRUE(out.lines.empty());
  }
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(field(out.lines[0], "TETHER_SUPPRESSED"), "2");
}

TEST(AuditLog, DefaultRateIsTheDocumentedOne) {
  const rate_limit d;
  EXPECT_EQ(d.burst, 100);
  EXPECT_EQ(d.per_second, 10);
}

}  // namespace
}  // namespace tether::agent::audit
