// Counters as qemu-ga 7.2 reports them: guest-get-cpustats (per CPU, in
// milliseconds), guest-get-diskstats (/proc/diskstats), guest-get-memory-
// blocks and -block-info (/sys/devices/system/memory). Parsed with the stats
// service's procfs parsers.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "qga/qga_agent.hpp"
#include "qga/sys_text.hpp"
#include "sys/procfs.hpp"

namespace tether::agent::qga {
namespace {

json::value cpustats() {
  const auto st = procfs::parse_stat(read_text("/proc/stat"));
  const long tck = ::sysconf(_SC_CLK_TCK);
  const auto ms = [tck](std::uint64_t ticks) { return static_cast<std::int64_t>(ticks * 1000 / (tck > 0 ? tck : 100)); };
  json::array out;
  for (const auto& c : st.per_cpu) {
    const auto& t = c.times;
    out.push_back(json::object{{"type", "linux"},        {"cpu", c.cpu},          {"user", ms(t.user)},
                               {"nice", ms(t.nice)},     {"system", ms(t.system)}, {"idle", ms(t.idle)},
                               {"iowait", ms(t.iowait)}, {"irq", ms(t.irq)},       {"softirq", ms(t.softirq)},
                               {"steal", ms(t.steal)},   {"guest", ms(t.guest)},   {"guestnice", ms(t.guest_nice)}});
  }
  return out;
}

json::value diskstats() {
  json::array out;
  for (const auto& d : procfs::parse_diskstats(read_text("/proc/diskstats"))) {
    json::object s{{"read-ios", d.reads_completed},   {"read-merges", d.reads_merged},
                   {"read-sectors", d.sectors_read},   {"read-ticks", d.read_ms},
                   {"write-ios", d.writes_completed}, {"write-merges", d.writes_merged},
                   {"write-sectors", d.sectors_written}, {"write-ticks", d.write_ms},
                   {"ios-pgr", d.ios_in_progress},    {"total-ticks", d.io_ms},
                   {"weight-ticks", d.weighted_io_ms}};
    const auto opt = [&s](const char* k, const std::optional<std::uint64_t>& v) {
      if (v) s[k] = *v;
    };
    opt("discard-ios", d.discards_completed);
    opt("discard-merges", d.discards_merged);
    opt("discard-sectors", d.sectors_discarded);
    opt("discard-ticks", d.discard_ms);
    opt("flush-ios", d.flushes_completed);
    opt("flush-ticks", d.flush_ms);
    out.push_back(json::object{{"name", d.name}, {"major", d.major}, {"minor", d.minor}, {"stats", std::move(s)}});
  }
  return out;
}

json::value memory_blocks() {
  json::array out;
  for (const auto& path : list_dir("/sys/devices/system/memory")) {
    const std::string name = path.filename().string();
    if (!name.starts_with("memory") || name.size() == 6) continue;
    const auto state = read_text(path.string() + "/state");
    const auto removable = read_text(path.string() + "/removable");
    out.push_back(json::object{{"phys-index", std::stoll(name.substr(6))},
                               {"online", state.starts_with("online")},
                               {"can-offline", removable.starts_with("1")}});
  }
  return out;
}

}  // namespace

void add_stats_commands(std::vector<command_def>& t) {
  t.push_back(simple_command("guest-get-cpustats", "stats", cpustats));
  t.push_back(simple_command("guest-get-diskstats", "stats", diskstats));
  t.push_back({"guest-get-memory-block-info", "stats", [](command_call& c) -> awaitable<json::value> {
                 c.a.done();
                 const auto text = read_text("/sys/devices/system/memory/block_size_bytes");
                 if (text.empty()) throw qga_error("cannot read /sys/devices/system/memory/block_size_bytes");
                 co_return json::object{{"size", static_cast<std::int64_t>(std::stoull(text, nullptr, 16))}};
               }});
  t.push_back(simple_command("guest-get-memory-blocks", "stats", memory_blocks));
}

}  // namespace tether::agent::qga
