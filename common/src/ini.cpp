#include "tether/common/ini.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "tether/common/unique_fd.hpp"

namespace tether::ini {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

// The line up to its comment: a '#' at the start or after a blank.
std::string_view strip_comment(std::string_view raw) {
  for (auto h = raw.find('#'); h != std::string_view::npos; h = raw.find('#', h + 1))
    if (h == 0 || raw[h - 1] == ' ' || raw[h - 1] == '\t') return raw.substr(0, h);
  return raw;
}

bool has_control_character(std::string_view raw) {
  return std::any_of(raw.begin(), raw.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r'; });
}

}  // namespace

std::vector<line> parse(std::string_view text, const limits& l) {
  std::vector<line> out;
  std::string section;
  std::map<std::string, std::size_t, std::less<>> seen;  // dotted key -> line that set it
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const auto nl = text.find('\n');
    const auto raw = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto fail = [&](line_error e, std::string message, std::string_view quoted) {
      line x;
      x.number = number;
      x.section = section;
      x.text = quoted;
      x.error = e;
      x.message = std::move(message);
      out.push_back(std::move(x));
    };
    if (has_control_character(raw)) {
      fail(line_error::control_character, "contains a control character", {});
      continue;
    }
    if (raw.size() > l.max_line_bytes) {
      fail(line_error::too_long, "is longer than " + std::to_string(l.max_line_bytes) + " bytes", {});
      continue;
    }
    const auto body = trim(strip_comment(raw));
    if (body.empty()) continue;

    if (body[0] == '[') {
      if (body.back() != ']') {
        fail(line_error::unclosed_section, "a section header needs a closing ']'", body);
        continue;
      }
      section = trim(body.substr(1, body.size() - 2));
      line x;
      x.what = line::kind::section;
      x.number = number;
      x.section = section;
      x.text = body;
      out.push_back(std::move(x));
      continue;
    }

    const auto eq = body.find('=');
    if (eq == std::string_view::npos) {
      fail(line_error::not_a_pair, "expected 'key = value', a [section] header or a # comment", body);
      continue;
    }
    line x;
    x.what = line::kind::pair;
    x.number = number;
    x.section = section;
    x.key = trim(body.substr(0, eq));
    x.value = trim(body.substr(eq + 1));
    x.text = body;
    if (x.key.empty()) {
      fail(line_error::missing_key, "missing key before '='", body);
      continue;
    }
    if (auto [prev, fresh] = seen.try_emplace(x.dotted(), number); !fresh) {
      x.what = line::kind::error;
      x.error = line_error::duplicate_key;
      x.first = prev->second;
      x.message = x.dotted() + " is set twice (first on line " + std::to_string(prev->second) + ")";
    }
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  if (trim(value).empty()) return out;
  for (;;) {
    const auto comma = value.find(',');
    const auto item = trim(value.substr(0, comma));
    if (item.empty()) throw std::invalid_argument("has an empty list item (items are separated by commas)");
    out.emplace_back(item);
    if (comma == std::string_view::npos) return out;
    value.remove_prefix(comma + 1);
  }
}

std::string read_file(const std::string& path, std::size_t max_bytes) {
  using reason = file_error::reason;
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) throw file_error(reason::cannot_open, errno, std::string("cannot open config file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw file_error(reason::cannot_read, errno, std::string("cannot read config file: ") + std::strerror(errno));
  // /dev/null: an empty config.
  if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) return {};
  // Not a FIFO or device a read could block on (O_NONBLOCK covers the open).
  if (!S_ISREG(st.st_mode)) throw file_error(reason::not_regular, 0, "not a regular file");
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw file_error(reason::cannot_read, errno, std::string("cannot read config file: ") + std::strerror(errno));
    if (n == 0) return text;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes)
      throw file_error(reason::too_large, 0, "larger than " + std::to_string(max_bytes) + " bytes");
  }
}

}  // namespace tether::ini
