#include "cli.hpp"

#include <charconv>
#include <cstdio>

namespace tetherctl {

std::vector<command>& commands() {
  static std::vector<command> all;
  return all;
}

long long parse_int(const std::string& flag, const std::string& value, long long min, long long max) {
  long long v = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || p != value.data() + value.size() || v < min || v > max)
    throw usage_error(flag + " needs a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max) + ", got '" + value + "'");
  return v;
}

double parse_seconds(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (value.empty() || *end != '\0' || !(v > 0) || v > 1e7)
    throw usage_error(flag + " needs a positive number of seconds, got '" + value + "'");
  return v;
}

bool is_flag(const std::string& arg, const std::string& name) {
  return arg == name || arg.starts_with(name + "=");
}

std::string flag_value(const std::vector<std::string>& args, std::size_t& i) {
  const std::string& a = args[i];
  if (auto eq = a.find('='); a.starts_with("--") && eq != std::string::npos) return a.substr(eq + 1);
  if (i + 1 >= args.size()) throw usage_error(a + " needs a value");
  return args[++i];
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace tetherctl
