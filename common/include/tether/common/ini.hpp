// The one INI dialect of tether's config files: the agent's agent.conf and
// the host's guests.d/*.conf. This reader knows the syntax only; what the
// sections and keys mean, and which are allowed, is up to each caller.
//
// The dialect (README, "Configuration files"):
//   [section]          a header; the keys below it belong to it. Keys before
//                      the first header belong to the section "".
//   key = value        key and value trimmed of blanks; the value is what
//                      follows the first '=', and may be empty or hold '='.
//   # comment          from a '#' at the start of a line or after a blank
//                      (space or tab) to the end of the line; any other '#'
//                      is part of the value ("qmp#1.sock").
// Blank lines are skipped, CRLF line ends are accepted. A line with a control
// character (other than tab and CR), a line longer than the limit, a header
// without ']', a line without '=', a missing key and a key set twice in one
// section (even under two headers of that section) are errors, reported with
// the line number.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tether::ini {

struct limits {
  // A config file is a few KiB; anything far larger is a mistake (or /dev/zero).
  std::size_t max_file_bytes = 1u << 20;
  std::size_t max_line_bytes = 64u << 10;
};

enum class line_error {
  control_character,  // "contains a control character"
  too_long,           // "is longer than N bytes"
  unclosed_section,   // "a section header needs a closing ']'"
  not_a_pair,         // "expected 'key = value', a [section] header or a # comment"
  missing_key,        // "missing key before '='"
  duplicate_key,      // "SECTION.KEY is set twice (first on line N)"
};

// One meaningful line of a file (blank and comment lines are left out).
struct line {
  enum class kind { section, pair, error };
  kind what = kind::error;
  std::size_t number = 0;  // 1-based
  // section: its name; pair: the section it belongs to ("" before the first
  // header); error: the current section.
  std::string section;
  std::string key, value;  // pair
  // The line without its comment, trimmed: what a message may quote.
  std::string text;
  line_error error{};      // error
  std::string message;     // error: what is wrong (see line_error)
  std::size_t first = 0;   // duplicate_key: the line that set the key first

  // "section.key", or "key" outside a section (pair, duplicate_key).
  std::string dotted() const { return section.empty() ? key : section + "." + key; }
};

// Splits `text` into lines as the dialect above says, in file order.
// Never throws for bad contents: errors are lines of kind error.
std::vector<line> parse(std::string_view text, const limits& l = {});

// Comma-separated items, each trimmed; an empty value is an empty list.
// Throws std::invalid_argument("has an empty list item (items are separated
// by commas)") for "a,,b" or a trailing comma.
std::vector<std::string> split_list(std::string_view value);

// Why read_file failed. what() reads "cannot open config file: <strerror>",
// "not a regular file", "larger than N bytes" or "cannot read config file:
// <strerror>"; a caller puts the path in front.
class file_error : public std::runtime_error {
 public:
  enum class reason { cannot_open, not_regular, too_large, cannot_read };
  file_error(reason r, int err, const std::string& what) : std::runtime_error(what), reason_(r), errno_(err) {}
  reason why() const noexcept { return reason_; }
  int error_number() const noexcept { return errno_; }  // 0 unless cannot_open / cannot_read

 private:
  reason reason_;
  int errno_;
};

// Reads a config file: a regular file of at most `max_bytes`, or /dev/null
// (an empty file, so tests need not depend on /etc). Never blocks on a FIFO
// or device. Throws file_error.
std::string read_file(const std::string& path, std::size_t max_bytes);

}  // namespace tether::ini
