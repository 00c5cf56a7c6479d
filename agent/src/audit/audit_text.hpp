// The text of an audit line: what the host sent (argv words, paths, error
// messages) made safe for a log line the guest's administrator reads. Every
// byte the host chose is escaped so it cannot forge a line or a terminal
// sequence, and bounded so one call cannot write a megabyte into the journal.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace tether::agent::audit {

// Longest target summary and error message in an audit line, in bytes after
// escaping; the rest is cut and counted ("...(+N bytes)").
inline constexpr std::size_t max_text_bytes = 256;

// `text` escaped: backslash as \\, newline, tab and carriage return as \n, \t
// and \r, other control bytes (C0, DEL, the C1 range U+0080..U+009F) and
// bytes that are not valid UTF-8 as \xNN; valid UTF-8 is kept as it is.
// Longer than `max` bytes: cut between two escapes or characters (never
// inside one) and "...(+N bytes)" appended, N counting the bytes left out.
std::string escaped(std::string_view text, std::size_t max = max_text_bytes);

// Words (argv, paths) escaped as above, each in double quotes (with \" for a
// quote inside) when it is empty or holds a blank or a quote, joined by one
// blank, and bounded by `max` as a whole.
std::string words(std::span<const std::string> items, std::size_t max = max_text_bytes);

}  // namespace tether::agent::audit
