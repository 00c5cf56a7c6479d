// The guest administrator's record of every call the host makes: one line
// per call with the method, what it acted on, and its result, at a priority
// that sets refusals apart; rate-limited so a flood of calls cannot fill the
// disk. The session records; where lines go (journal or stderr) is the
// sink's business (journal_sink.hpp), so tests capture them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/token_bucket.hpp"
#include "log.hpp"
#include "tether/v1/frame.pb.h"

namespace tether::agent::audit {

// One call, as the session saw it end (or refused it).
struct call_record {
  std::string_view method;
  std::vector<std::string> target;  // words: argv, path(s), action; may be empty
  std::string_view session_id;      // raw bytes
  std::uint64_t call_id = 0;
  v1::ErrorCode code = v1::ERROR_CODE_OK;
  std::string_view message;  // the error's message; empty when OK
};

// One line for the sink: MESSAGE, PRIORITY and the structured TETHER_*
// journal fields.
struct line {
  log::level priority = log::level::info;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
};

// Audit lines at once, then per second on average; beyond that lines are
// counted, and the count is logged when lines flow again.
struct rate_limit {
  double burst = 100;
  double per_second = 10;
};

// OK: info. Refused by the agent's policy (DISABLED_BY_CONFIG,
// PERMISSION_DENIED, UNKNOWN_METHOD): warning. Any other error: notice.
log::level priority_for(v1::ErrorCode code);
// "NOT_FOUND" for ERROR_CODE_NOT_FOUND, "OK" for ERROR_CODE_OK.
std::string result_name(v1::ErrorCode code);
// The line of one call: "audit: exec.Run echo hi -> OK (call 3, session
// 0a1b2c3d)", every host-chosen part escaped and bounded (audit_text.hpp).
line format(const call_record& r);

class audit_log {
 public:
  using clock = token_bucket::clock;
  using sink = std::function<void(const line&)>;

  explicit audit_log(sink out, std::function<clock::time_point()> now = &clock::now, rate_limit limit = {});
  // Logs the count of lines still held back (the agent is stopping).
  ~audit_log();
  audit_log(const audit_log&) = delete;
  audit_log& operator=(const audit_log&) = delete;

  // Whether the next call may be logged. First logs how many lines were left
  // out, if the limit had held some back. Ask before building the record:
  // a refused line costs no formatting.
  bool admit();
  void write(const call_record& r) { out_(format(r)); }

 private:
  sink out_;
  std::function<clock::time_point()> now_;
  rate_limit limit_;
  token_bucket bucket_;
  std::uint64_t suppressed_ = 0;

  void report_suppressed();
};

}  // namespace tether::agent::audit
