#include "log.hpp"

#include <unistd.h>

#include <cstdlib>

namespace tether::agent::log {
namespace {
level g_max = level::info;
const bool g_journal = std::getenv("JOURNAL_STREAM") != nullptr;

const char* name(level l) {
  switch (l) {
    case level::error: return "error";
    case level::warning: return "warning";
    case level::notice: return "notice";
    case level::info: return "info";
    case level::debug: return "debug";
  }
  return "";
}
}  // namespace

void set_max_level(level l) { g_max = l; }
bool enabled(level l) { return static_cast<int>(l) <= static_cast<int>(g_max); }

void write(level l, const std::string& message) {
  std::string line;
  if (g_journal) {
    line = "<" + std::to_string(static_cast<int>(l)) + ">" + message + "\n";
  } else {
    line = std::string("tether-agent: ") + name(l) + ": " + message + "\n";
  }
  // One write per line so concurrent writers do not interleave.
  [[maybe_unused]] auto r = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace tether::agent::log
