#include "audit/audit_log.hpp"

#include "audit/audit_text.hpp"

namespace tether::agent::audit {
namespace {

// Method names come from the host too: bounded like any other text.
constexpr std::size_t max_method_bytes = 128;

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string number(double v) { return std::to_string(static_cast<long long>(v)); }

}  // namespace

log::level priority_for(v1::ErrorCode code) {
  switch (code) {
    case v1::ERROR_CODE_OK: return log::level::info;
    case v1::ERROR_CODE_DISABLED_BY_CONFIG:
    case v1::ERROR_CODE_PERMISSION_DENIED:
    case v1::ERROR_CODE_UNKNOWN_METHOD: return log::level::warning;
    default: return log::level::notice;
  }
}

std::string result_name(v1::ErrorCode code) {
  if (code == v1::ERROR_CODE_OK) return "OK";
  std::string name = v1::ErrorCode_Name(code);
  if (name.empty()) return "ERROR_" + std::to_string(static_cast<int>(code));
  constexpr std::string_view prefix = "ERROR_CODE_";
  if (name.starts_with(prefix)) name.erase(0, prefix.size());
  return name;
}

line format(const call_record& r) {
  const std::string method = escaped(r.method, max_method_bytes);
  const std::string target = words(r.target);
  const std::string result = result_name(r.code);
  const std::string error = r.code == v1::ERROR_CODE_OK ? "" : escaped(r.message);
  const std::string session = hex(r.session_id);
  line l;
  l.priority = priority_for(r.code);
  l.message = "audit: " + method + (target.empty() ? "" : " " + target) + " -> " + result +
              (error.empty() ? "" : ": " + error) + " (call " + std::to_string(r.call_id) + ", session " +
              session.substr(0, 8) + ")";
  l.fields = {{"TETHER_METHOD", method},
              {"TETHER_CALL_ID", std::to_string(r.call_id)},
              {"TETHER_SESSION", session},
              {"TETHER_TARGET", target},
              {"TETHER_RESULT", result}};
  if (!error.empty()) l.fields.emplace_back("TETHER_ERROR", error);
  return l;
}

audit_log::audit_log(sink out, std::function<clock::time_point()> now, rate_limit limit)
    : out_(std::move(out)), now_(std::move(now)), limit_(limit), bucket_(limit.burst, limit.per_second, now_()) {}

audit_log::~audit_log() { report_suppressed(); }

bool audit_log::admit() {
  if (!bucket_.take(now_())) {
    ++suppressed_;
    return false;
  }
  report_suppressed();
  return true;
}

void audit_log::report_suppressed() {
  if (suppressed_ > 0) {
    line l;
    l.priority = log::level::warning;
    l.message = "audit: " + std::to_string(suppressed_) + " audit lines suppressed (rate limit: " +
                number(limit_.burst) + " lines at once, " + number(limit_.per_second) + " per second)";
    l.fields = {{"TETHER_SUPPRESSED", std::to_string(suppressed_)}};
    suppressed_ = 0;
    out_(l);
  }
}

}  // namespace tether::agent::audit
