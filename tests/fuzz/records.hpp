// Fuzz inputs that are a sequence of steps: records separated by
// `separator`. Each record's first byte chooses what the step does, the rest
// is its body. A separator libFuzzer can insert (it is in every seed, and
// its comparisons are instrumented) but that real frames rarely contain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tether::fuzz {

inline constexpr std::string_view separator = "\xF5\xF5\xF5\xF5";

struct record {
  std::uint8_t op = 0;
  std::string_view body;
};

inline std::vector<record> split_records(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<record> out;
  while (!rest.empty()) {
    const auto end = rest.find(separator);
    const auto r = rest.substr(0, end);
    if (!r.empty()) out.push_back({static_cast<std::uint8_t>(r[0]), r.substr(1)});
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + separator.size());
  }
  return out;
}

// The writes of a byte stream's steps: a step whose op has bit 0 set goes
// out in one write with the next step's (their messages share a read).
inline std::vector<std::string> joined_writes(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> out;
  std::string bytes;
  for (const auto& r : split_records(data, size)) {
    bytes.append(r.body);
    if (r.op & 1) continue;
    out.push_back(std::move(bytes));
    bytes.clear();
  }
  if (!bytes.empty()) out.push_back(std::move(bytes));
  return out;
}

}  // namespace tether::fuzz
