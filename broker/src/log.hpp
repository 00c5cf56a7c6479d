// tetherd's log: one line per event on stderr. Under systemd (JOURNAL_STREAM
// set) each line starts with a <N> priority (sd-daemon.h), so journald keeps
// the level. The broker logs at its top edge only: connections, clients,
// refusals; never per call.
#pragma once

#include <string>

namespace tether::broker::log {

enum class level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_max_level(level l);
void write(level l, const std::string& message);
inline void error(const std::string& m) { write(level::error, m); }
inline void warning(const std::string& m) { write(level::warning, m); }
inline void info(const std::string& m) { write(level::info, m); }
inline void debug(const std::string& m) { write(level::debug, m); }

}  // namespace tether::broker::log
