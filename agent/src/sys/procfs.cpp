#include "sys/procfs.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace tether::agent::procfs {
namespace {

// Splits text into lines without copying.
class lines {
 public:
  explicit lines(std::string_view text) : rest_(text) {}
  bool next(std::string_view& line) {
    if (rest_.empty()) return false;
    const auto nl = rest_.find('\n');
    line = rest_.substr(0, nl);
    rest_ = nl == std::string_view::npos ? std::string_view{} : rest_.substr(nl + 1);
    return true;
  }

 private:
  std::string_view rest_;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Splits a line into whitespace-separated fields without copying.
class fields {
 public:
  explicit fields(std::string_view line) : rest_(line) {}
  bool next(std::string_view& field) {
    std::size_t i = 0;
    while (i < rest_.size() && is_space(rest_[i])) ++i;
    std::size_t j = i;
    while (j < rest_.size() && !is_space(rest_[j])) ++j;
    if (i == j) return false;
    field = rest_.substr(i, j - i);
    rest_ = rest_.substr(j);
    return true;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

template <class T>
bool parse_num(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Reads up to `max` unsigned numbers; stops at the first field that is not
// one. Returns how many were read.
template <std::size_t N>
std::size_t parse_u64s(fields& f, std::array<std::uint64_t, N>& out) {
  std::size_t n = 0;
  std::string_view tok;
  while (n < N && f.next(tok)) {
    if (!parse_num(tok, out[n])) return n;
    ++n;
  }
  return n;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

// --- /proc/stat ------------------------------------------------------------

proc_stat parse_stat(std::string_view text) {
  proc_stat out;
  lines ls(text);
  std::string_view line;
  while (ls.next(line)) {
    fields f(line);
    std::string_view key;
    if (!f.next(key)) continue;
    if (key.starts_with("cpu")) {
      int cpu = -1;
      const auto suffix = key.substr(3);
      if (!suffix.empty() && !parse_num(suffix, cpu)) continue;
      if (!suffix.empty() && cpu < 0) continue;
      std::array<std::uint64_t, 10> v{};
      // user nice system idle are present on every kernel; later fields were
      // added over time (iowait 2.5, steal 2.6.11, guest 2.6.24, guest_nice
      // 2.6.33). Fewer than four numbers: not a CPU line we understand.
      const auto n = parse_u64s(f, v);
      if (n < 4) continue;
      cpu_times t{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]};
      if (suffix.empty())
        out.total = t;
      else
        out.per_cpu.push_back({cpu, t});
      continue;
    }
    std::string_view val;
    if (!f.next(val)) continue;
    std::uint64_t n = 0;
    if (!parse_num(val, n)) continue;
    if (key == "ctxt") out.context_switches = n;
    else if (key == "intr") out.interrupts = n;
    else if (key == "processes") out.forks = n;
    else if (key == "btime") out.boot_time = n;
    else if (key == "procs_running") out.procs_running = static_cast<std::uint32_t>(n);
    else if (key == "procs_blocked") out.procs_blocked = static_cast<std::uint32_t>(n);
  }
  return out;
}

// --- /proc/meminfo ---------------------------------------------------------

meminfo parse_meminfo(std::string_view text) {
  meminfo out;
  lines ls(text);
  std::string_view line;
  while (ls.next(line)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = line.substr(0, colon);
    fields f(line.substr(colon + 1));
    std::string_view num, unit;
    if (!f.next(num)) continue;
    std::uint64_t v = 0;
    if (!parse_num(num, v)) continue;
    if (f.next(unit)) {
      if (unit == "kB")
        v *= 1024;
      else
        continue;  // a unit we do not know: do not guess
    }
    std::optional<std::uint64_t>* slot = nullptr;
    if (key == "MemTotal") slot = &out.total;
    else if (key == "MemFree") slot = &out.free;
    else if (key == "MemAvailable") slot = &out.available;
    else if (key == "Buffers") slot = &out.buffers;
    else if (key == "Cached") slot = &out.cached;
    else if (key == "Shmem") slot = &out.shmem;
    else if (key == "SReclaimable") slot = &out.slab_reclaimable;
    else if (key == "Dirty") slot = &out.dirty;
    else if (key == "Writeback") slot = &out.writeback;
    else if (key == "SwapTotal") slot = &out.swap_total;
    else if (key == "SwapFree") slot = &out.swap_free;
    else if (key == "SwapCached") slot = &out.swap_cached;
    if (slot) *slot = v;
  }
  return out;
}

// --- /proc/loadavg, /proc/uptime ---------------------------------------------

std::optional<loadavg> parse_loadavg(std::string_view text) {
  // "0.45 0.49 0.34 1/89 3574"
  fields f(text);
  std::string_view a, b, c, tasks, last;
  if (!f.next(a) || !f.next(b) || !f.next(c) || !f.next(tasks)) return std::nullopt;
  loadavg out;
  if (!parse_num(a, out.load1) || !parse_num(b, out.load5) || !parse_num(c, out.load15))
    return std::nullopt;
  const auto slash = tasks.find('/');
  if (slash == std::string_view::npos || !parse_num(tasks.substr(0, slash), out.running) ||
      !parse_num(tasks.substr(slash + 1), out.total))
    return std::nullopt;
  if (f.next(last)) (void)parse_num(last, out.last_pid);
  return out;
}

std::optional<uptime> parse_uptime(std::string_view text) {
  // "3402.33 6072.96"
  fields f(text);
  std::string_view up, idle;
  uptime out;
  if (!f.next(up) || !parse_num(up, out.up_seconds) || out.up_seconds < 0) return std::nullopt;
  if (f.next(idle)) (void)parse_num(idle, out.idle_seconds);
  return out;
}

// --- /proc/pressure ------------------------------------------------------------

pressure parse_pressure(std::string_view text) {
  // "some avg10=0.00 avg60=0.11 avg300=0.43 total=17459628"
  pressure out;
  lines ls(text);
  std::string_view line;
  while (ls.next(line)) {
    fields f(line);
    std::string_view kind, kv;
    if (!f.next(kind) || (kind != "some" && kind != "full")) continue;
    pressure_line p;
    unsigned seen = 0;
    bool bad = false;
    while (f.next(kv)) {
      const auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      const auto k = kv.substr(0, eq), v = kv.substr(eq + 1);
      auto take = [&](auto& slot, unsigned bit) {
        if (!parse_num(v, slot)) bad = true;
        seen |= bit;
      };
      if (k == "avg10") take(p.avg10, 1);
      else if (k == "avg60") take(p.avg60, 2);
      else if (k == "avg300") take(p.avg300, 4);
      else if (k == "total") take(p.total_us, 8);
    }
    if (bad || seen != 15) continue;
    (kind == "some" ? out.some : out.full) = p;
  }
  return out;
}

// --- /proc/diskstats -----------------------------------------------------------

bool diskstat::idle() const {
  return reads_completed == 0 && writes_completed == 0 && ios_in_progress == 0 &&
         discards_completed.value_or(0) == 0 && flushes_completed.value_or(0) == 0;
}

std::vector<diskstat> parse_diskstats(std::string_view text) {
  std::vector<diskstat> out;
  lines ls(text);
  std::string_view line;
  while (ls.next(line)) {
    fields f(line);
    std::string_view maj, min, name;
    diskstat d;
    if (!f.next(maj) || !f.next(min) || !f.next(name)) continue;
    if (!parse_num(maj, d.major) || !parse_num(min, d.minor)) continue;
    std::array<std::uint64_t, 17> v{};
    const auto n = parse_u64s(f, v);
    if (n == 4) {
      // Partitions on Linux 2.6.0-2.6.24: reads, sectors read, writes, sectors written.
      d.reads_completed = v[0];
      d.sectors_read = v[1];
      d.writes_completed = v[2];
      d.sectors_written = v[3];
    } else if (n >= 11) {
      d.reads_completed = v[0];
      d.reads_merged = v[1];
      d.sectors_read = v[2];
      d.read_ms = v[3];
      d.writes_completed = v[4];
      d.writes_merged = v[5];
      d.sectors_written = v[6];
      d.write_ms = v[7];
      d.ios_in_progress = v[8];
      d.io_ms = v[9];
      d.weighted_io_ms = v[10];
      if (n >= 15) {  // Linux 4.18
        d.discards_completed = v[11];
        d.discards_merged = v[12];
        d.sectors_discarded = v[13];
        d.discard_ms = v[14];
      }
      if (n >= 17) {  // Linux 5.5
        d.flushes_completed = v[15];
        d.flush_ms = v[16];
      }
    } else {
      continue;
    }
    d.name.assign(name);
    out.push_back(std::move(d));
  }
  return out;
}

// --- /proc/self/mounts ---------------------------------------------------------

std::string unescape_mount_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\\' && i + 3 < field.size()) {
      const char a = field[i + 1], b = field[i + 2], d = field[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && d >= '0' && d <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (d - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

bool is_pseudo_filesystem(std::string_view t) {
  static constexpr std::string_view pseudo[] = {
      "autofs",  "binfmt_misc", "bpf",        "cgroup",     "cgroup2",   "configfs",
      "debugfs", "devpts",      "efivarfs",   "fusectl",    "hugetlbfs", "mqueue",
      "nsfs",    "proc",        "pstore",     "rpc_pipefs", "securityfs", "selinuxfs",
      "sysfs",   "tracefs",     "binder",     "nfsd",       "ramfs",     "rootfs",
      "sockfs",  "pipefs",      "anon_inodefs", "devfs",    "usbfs",     "xenfs",
      "smackfs", "apparmorfs",  "fuse.gvfsd-fuse", "fuse.portal"};
  return std::find(std::begin(pseudo), std::end(pseudo), t) != std::end(pseudo);
}

std::vector<mount_entry> parse_mounts(std::string_view text) {
  std::vector<mount_entry> out;
  lines ls(text);
  std::string_view line;
  while (ls.next(line)) {
    fields f(line);
    std::string_view dev, dir, type, opts;
    if (!f.next(dev) || !f.next(dir) || !f.next(type) || !f.next(opts)) continue;
    if (dir.empty() || dir.front() != '/') continue;
    mount_entry m;
    m.device = unescape_mount_field(dev);
    m.mount_point = unescape_mount_field(dir);
    m.fs_type.assign(type);
    m.options.assign(opts);
    for (std::string_view o = opts; !o.empty();) {
      const auto comma = o.find(',');
      if (o.substr(0, comma) == "ro") m.read_only = true;
      o = comma == std::string_view::npos ? std::string_view{} : o.substr(comma + 1);
    }
    out.push_back(std::move(m));
  }
  return out;
}

// --- /proc/net/dev -------------------------------------------------------------

std::vector<net_dev> parse_net_dev(std::string_view text) {
  // Two header lines (with '|'), then "  name: 16 numbers". Old kernels
  // print large counters glued to the colon ("eth0:1234567"), so split there.
  std::vector<net_dev> out;
  lines ls(text);
  std::string_view line;
  while (ls.next(line)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || line.find('|') != std::string_view::npos) continue;
    const auto name = trim(line.substr(0, colon));
    if (name.empty()) continue;
    fields f(line.substr(colon + 1));
    std::array<std::uint64_t, 16> v{};
    if (parse_u64s(f, v) < 16) continue;
    net_dev d;
    d.name.assign(name);
    d.rx_bytes = v[0];
    d.rx_packets = v[1];
    d.rx_errors = v[2];
    d.rx_dropped = v[3];
    d.rx_fifo = v[4];
    d.rx_frame = v[5];
    d.rx_compressed = v[6];
    d.rx_multicast = v[7];
    d.tx_bytes = v[8];
    d.tx_packets = v[9];
    d.tx_errors = v[10];
    d.tx_dropped = v[11];
    d.tx_fifo = v[12];
    d.tx_collisions = v[13];
    d.tx_carrier = v[14];
    d.tx_compressed = v[15];
    out.push_back(std::move(d));
  }
  return out;
}

bool is_pid_name(std::string_view name) {
  if (name.empty() || name.front() == '0') return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace tether::agent::procfs
