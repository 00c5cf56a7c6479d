// Durations on tetherctl's command line: "500ms", "30s", "1.5m", "2h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tetherctl {

// A non-negative decimal number with an optional unit (ms, s, m, h); a bare
// number is in `bare_unit`. Rounded to whole milliseconds. nullopt if `text`
// is not such a time or is beyond ten years.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::chrono::milliseconds bare_unit);

// "1.5 s", "200 ms", for messages.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace tetherctl
