// Agent logging to stderr. Under systemd (JOURNAL_STREAM set) each line
// carries a <N> priority prefix (sd-daemon.h) so journald keeps levels.
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace tether::agent::log {

enum class level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

void set_max_level(level l);
bool enabled(level l);
void write(level l, const std::string& message);

namespace detail {
inline void format_to(std::ostringstream& os, std::string_view fmt) { os << fmt; }
template <class T, class... Rest>
void format_to(std::ostringstream& os, std::string_view fmt, T&& v, Rest&&... rest) {
  const auto at = fmt.find("{}");
  if (at == std::string_view::npos) {
    os << fmt;
    return;
  }
  os << fmt.substr(0, at) << std::forward<T>(v);
  format_to(os, fmt.substr(at + 2), std::forward<Rest>(rest)...);
}
}  // namespace detail

// "{}" placeholders, filled in order.
template <class... Args>
std::string format(std::string_view fmt, Args&&... args) {
  std::ostringstream os;
  detail::format_to(os, fmt, std::forward<Args>(args)...);
  return os.str();
}

template <class... Args>
void at(level l, std::string_view fmt, Args&&... args) {
  if (enabled(l)) write(l, format(fmt, std::forward<Args>(args)...));
}
template <class... A> void error(std::string_view f, A&&... a) { at(level::error, f, std::forward<A>(a)...); }
template <class... A> void warning(std::string_view f, A&&... a) { at(level::warning, f, std::forward<A>(a)...); }
template <class... A> void notice(std::string_view f, A&&... a) { at(level::notice, f, std::forward<A>(a)...); }
template <class... A> void info(std::string_view f, A&&... a) { at(level::info, f, std::forward<A>(a)...); }
template <class... A> void debug(std::string_view f, A&&... a) { at(level::debug, f, std::forward<A>(a)...); }

}  // namespace tether::agent::log
