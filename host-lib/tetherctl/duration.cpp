#include "duration.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace tetherctl {

using std::chrono::milliseconds;

std::optional<milliseconds> parse_duration(std::string_view text, milliseconds bare_unit) {
  static constexpr std::pair<std::string_view, long long> units[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  std::size_t digits = 0;
  while (digits < text.size() && ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) ++digits;
  const std::string number(text.substr(0, digits));
  const std::string_view unit = text.substr(digits);
  if (number.empty() || number == ".") return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return std::nullopt;  // e.g. "1.2.3"
  double scale = static_cast<double>(bare_unit.count());
  if (!unit.empty()) {
    scale = 0;
    for (const auto& [name, ms] : units)
      if (unit == name) scale = static_cast<double>(ms);
    if (scale == 0) return std::nullopt;
  }
  const double ms = std::round(value * scale);
  if (!(ms >= 0) || ms > 10.0 * 365 * 24 * 3'600'000) return std::nullopt;
  return milliseconds(static_cast<long long>(ms));
}

std::string format_duration(milliseconds d) {
  char buf[48];
  if (d.count() < 1000) std::snprintf(buf, sizeof buf, "%lld ms", static_cast<long long>(d.count()));
  else std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000);
  return buf;
}

}  // namespace tetherctl
