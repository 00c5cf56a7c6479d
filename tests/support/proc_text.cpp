#include "support/proc_text.hpp"

#include <cctype>
#include <sstream>

namespace tether::test::proc {
namespace {

// The lines of `text`, without their newlines.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto end = text.find('\n');
    out.push_back(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return out;
}

std::uint64_t number_after(std::string_view line, std::size_t at) {
  std::istringstream in{std::string(line.substr(at))};
  std::uint64_t v = 0;
  in >> v;
  return v;
}

// The fields after "pid (comm) " of /proc/PID/stat, whose comm may hold
// spaces and parentheses: field 3 (the state) comes first.
std::string_view fields_after_comm(std::string_view pid_stat) {
  const auto close = pid_stat.rfind(')');
  if (close == std::string_view::npos || close + 2 > pid_stat.size()) return {};
  return pid_stat.substr(close + 2);
}

}  // namespace

std::uint64_t kib_field(std::string_view text, std::string_view key) {
  for (auto line : lines_of(text))
    if (line.starts_with(key) && line.substr(key.size()).starts_with(':')) return number_after(line, key.size() + 1);
  return 0;
}

std::uint32_t cpu_lines(std::string_view stat) {
  std::uint32_t n = 0;
  for (auto line : lines_of(stat))
    if (line.size() > 3 && line.starts_with("cpu") && std::isdigit(static_cast<unsigned char>(line[3]))) ++n;
  return n;
}

std::uint64_t stat_value(std::string_view stat, std::string_view key) {
  for (auto line : lines_of(stat))
    if (line.starts_with(key) && line.substr(key.size()).starts_with(' ')) return number_after(line, key.size() + 1);
  return 0;
}

long cpu_ticks(std::string_view pid_stat) {
  std::istringstream in{std::string(fields_after_comm(pid_stat))};
  std::string field;
  long utime = 0, stime = 0;
  // The state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

bool process_gone(std::string_view pid_stat) {
  if (pid_stat.empty()) return true;
  const auto fields = fields_after_comm(pid_stat);
  return !fields.empty() && fields.front() == 'Z';
}

std::vector<std::string> disks_that_read(std::string_view diskstats) {
  std::vector<std::string> out;
  for (auto line : lines_of(diskstats)) {
    std::istringstream l{std::string(line)};
    std::string major, minor, name;
    std::uint64_t reads = 0;
    if (l >> major >> minor >> name >> reads && reads > 0) out.push_back(name);
  }
  return out;
}

std::vector<std::string> interface_names(std::string_view net_dev) {
  std::vector<std::string> out;
  for (auto line : lines_of(net_dev)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || line.find('|') != std::string_view::npos) continue;  // headers
    auto name = line.substr(0, colon);
    name.remove_prefix(std::min(name.find_first_not_of(' '), name.size()));
    out.emplace_back(name);
  }
  return out;
}

}  // namespace tether::test::proc
