#include "log.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace tether::broker::log {
namespace {
level max_level = level::info;
const bool to_journal = std::getenv("JOURNAL_STREAM") != nullptr;
}  // namespace

void set_max_level(level l) { max_level = l; }

void write(level l, const std::string& message) {
  if (static_cast<int>(l) > static_cast<int>(max_level)) return;
  std::string line;
  if (to_journal) line = "<" + std::to_string(static_cast<int>(l)) + ">";
  line += "tetherd: ";
  line += message;
  line += '\n';
  // One write per line: lines of concurrent events never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace tether::broker::log
