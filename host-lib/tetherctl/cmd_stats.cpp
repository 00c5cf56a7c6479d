// tetherctl stats [--watch TIME [--count N]] [--json] [--per-cpu] [--all-devices]
#include <unistd.h>

#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "json_out.hpp"
#include "json_types.hpp"
#include "tether/stats.hpp"

namespace tetherctl {
namespace {

using StatsSample = tether::stats::sample;

struct stats_args {
  milliseconds watch{0};  // 0: one sample
  long long count = 0;    // 0: until interrupted
  bool json = false;      // the global --json
  bool per_cpu = false;
  bool all_devices = false;
};

[[gnu::format(printf, 1, 2)]] std::string fmt(const char* f, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::string bytes(double b) {
  static const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (b >= 1024 && u < 5) {
    b /= 1024;
    ++u;
  }
  return u == 0 ? fmt("%.0f B", b) : fmt("%.1f %s", b, unit[u]);
}

std::string rate(std::optional<double> bytes_per_s) { return bytes_per_s ? bytes(*bytes_per_s) + "/s" : "-"; }
std::string num_rate(std::optional<double> v) { return v ? fmt("%.0f", *v) : "-"; }
std::string pct(double v) { return fmt("%.1f%%", v); }

std::string duration(double secs) {
  const auto s = static_cast<long long>(secs);
  if (s >= 86400) return fmt("%lldd %02lldh%02lldm", s / 86400, s / 3600 % 24, s / 60 % 60);
  return fmt("%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
}

std::string pad(std::string s, std::size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}
std::string rpad(std::string s, std::size_t w) {
  if (s.size() < w) s.insert(0, w - s.size(), ' ');
  return s;
}

std::string psi_cell(const tether::stats::pressure& p, bool full) {
  const auto& l = full ? p.full : p.some;
  if (!l) return pad("-", 20);
  return pad(fmt("%.2f %.2f %.2f", l->avg10, l->avg60, l->avg300), 20);
}

// The human view of one sample, as lines.
std::string render(const StatsSample& s, const stats_args& a, bool watching) {
  std::ostringstream o;
  const std::time_t t = static_cast<std::time_t>(s.realtime_ns / 1'000'000'000);
  char when[64];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  o << "Guest " << when << "   up " << duration(s.uptime_seconds) << "   processes " << s.process_count;
  if (watching) {
    o << "   sample #" << s.sequence;
    if (s.skipped) o << " (skipped " << s.skipped << ")";
  }
  o << "\n\n";

  const auto& cpu = s.cpu;
  o << "CPU     " << cpu.online_cpus << " online";
  if (cpu.total.percent) {
    const auto& p = *cpu.total.percent;
    o << "   busy " << pct(p.busy) << "  user " << pct(p.user) << "  nice " << pct(p.nice)
      << "  system " << pct(p.system) << "  irq " << pct(p.irq + p.softirq) << "  iowait "
      << pct(p.iowait) << "  steal " << pct(p.steal) << "  idle " << pct(p.idle);
  } else {
    o << "   (no rates: first sample)";
  }
  o << "\n";
  if (!a.per_cpu && !cpu.per_cpu.empty() && cpu.per_cpu[0].percent) {
    o << "        busy per CPU:";
    for (const auto& c : cpu.per_cpu)
      o << " " << c.number << ":" << (c.percent ? fmt("%.0f%%", c.percent->busy) : std::string("-"));
    o << "\n";
  }
  o << "        context switches " << num_rate(cpu.context_switches_per_second)
    << "/s  interrupts " << num_rate(cpu.interrupts_per_second)
    << "/s  forks " << num_rate(cpu.forks_per_second) << "/s  running "
    << cpu.procs_running << "  blocked " << cpu.procs_blocked << "\n";
  if (a.per_cpu) {
    o << "        " << pad("CPU", 6) << rpad("BUSY", 8) << rpad("USER", 8) << rpad("SYSTEM", 8)
      << rpad("IOWAIT", 8) << rpad("STEAL", 8) << rpad("IDLE", 8) << "\n";
    for (const auto& c : cpu.per_cpu) {
      o << "        " << pad("cpu" + std::to_string(c.number), 6);
      if (c.percent) {
        const auto& p = *c.percent;
        o << rpad(pct(p.busy), 8) << rpad(pct(p.user + p.nice), 8)
          << rpad(pct(p.system + p.irq + p.softirq), 8) << rpad(pct(p.iowait), 8)
          << rpad(pct(p.steal), 8) << rpad(pct(p.idle), 8);
      } else {
        o << rpad("-", 8);
      }
      o << "\n";
    }
  }

  const auto& m = s.memory;
  const double used_pct = m.total_bytes ? 100.0 * static_cast<double>(m.used_bytes) / static_cast<double>(m.total_bytes) : 0;
  o << "Memory  total " << bytes(static_cast<double>(m.total_bytes)) << "  used "
    << bytes(static_cast<double>(m.used_bytes)) << " (" << pct(used_pct) << ")  available "
    << (m.available_bytes ? bytes(static_cast<double>(*m.available_bytes)) : std::string("-"))
    << "  free " << bytes(static_cast<double>(m.free_bytes)) << "  buffers "
    << bytes(static_cast<double>(m.buffers_bytes)) << "  cached " << bytes(static_cast<double>(m.cached_bytes))
    << "  dirty " << bytes(static_cast<double>(m.dirty_bytes)) << "\n";
  const auto swap_used = m.swap_total_bytes > m.swap_free_bytes ? m.swap_total_bytes - m.swap_free_bytes : 0;
  o << "Swap    total " << bytes(static_cast<double>(m.swap_total_bytes)) << "  used "
    << bytes(static_cast<double>(swap_used)) << "\n";
  const auto& l = s.load;
  o << "Load    " << fmt("%.2f %.2f %.2f", l.load1, l.load5, l.load15) << "   tasks "
    << l.running_tasks << " running / " << l.total_tasks << " total\n";
  if (s.pressure) {
    const auto& p = *s.pressure;
    o << "PSI     " << pad("(avg10 avg60 avg300 %)", 14) << "  " << pad("some", 20) << pad("full", 20) << "\n";
    auto row = [&](const char* name, const std::optional<tether::stats::pressure>& x) {
      if (!x) return;
      o << "  " << pad(name, 30) << psi_cell(*x, false) << psi_cell(*x, true) << "\n";
    };
    row("cpu", p.cpu);
    row("memory", p.memory);
    row("io", p.io);
  } else {
    o << "PSI     not available in this kernel\n";
  }

  o << "\n" << pad("DISK", 14) << rpad("READ/s", 13) << rpad("WRITE/s", 13) << rpad("R/s", 8)
    << rpad("W/s", 8) << rpad("BUSY", 8) << rpad("INFLIGHT", 10) << rpad("READ", 12) << rpad("WRITTEN", 12) << "\n";
  for (const auto& d : s.disks) {
    o << pad(d.name, 14) << rpad(rate(d.read_bytes_per_second), 13)
      << rpad(rate(d.write_bytes_per_second), 13)
      << rpad(num_rate(d.reads_per_second), 8)
      << rpad(num_rate(d.writes_per_second), 8)
      << rpad(d.busy_percent ? pct(*d.busy_percent) : std::string("-"), 8)
      << rpad(std::to_string(d.ios_in_progress), 10)
      << rpad(bytes(static_cast<double>(d.sectors_read) * 512), 12)
      << rpad(bytes(static_cast<double>(d.sectors_written) * 512), 12) << "\n";
  }

  o << "\n" << pad("FILESYSTEM", 26) << pad("TYPE", 10) << rpad("SIZE", 11) << rpad("USED", 11)
    << rpad("AVAIL", 11) << rpad("USE%", 7) << rpad("INODES%", 9) << "  DEVICE\n";
  for (const auto& f : s.filesystems) {
    const double use = f.total_bytes ? 100.0 * static_cast<double>(f.used_bytes) / static_cast<double>(f.total_bytes) : 0;
    const std::string ino = f.total_inodes ? pct(100.0 * static_cast<double>(f.used_inodes) / static_cast<double>(f.total_inodes)) : "-";
    o << pad(f.mount_point, 25) << " " << pad(f.fs_type, 10) << rpad(bytes(static_cast<double>(f.total_bytes)), 11)
      << rpad(bytes(static_cast<double>(f.used_bytes)), 11) << rpad(bytes(static_cast<double>(f.available_bytes)), 11)
      << rpad(pct(use), 7) << rpad(ino, 9) << "  " << f.device << (f.read_only ? " (ro)" : "") << "\n";
  }

  o << "\n" << pad("INTERFACE", 14) << pad("STATE", 9) << rpad("RX/s", 13) << rpad("TX/s", 13)
    << rpad("RX", 11) << rpad("TX", 11) << rpad("ERRS", 6) << rpad("DROPS", 7) << "  ADDRESSES\n";
  for (const auto& n : s.interfaces) {
    std::string addrs = n.mac == "00:00:00:00:00:00" ? "" : n.mac;
    for (const auto& ad : n.addresses)
      addrs += (addrs.empty() ? "" : " ") + ad.address + "/" + std::to_string(ad.prefix_length);
    o << pad(n.name, 14) << pad(n.oper_state.empty() ? "-" : n.oper_state, 9)
      << rpad(rate(n.rx_bytes_per_second), 13)
      << rpad(rate(n.tx_bytes_per_second), 13)
      << rpad(bytes(static_cast<double>(n.rx_bytes)), 11) << rpad(bytes(static_cast<double>(n.tx_bytes)), 11)
      << rpad(std::to_string(n.rx_errors + n.tx_errors), 6)
      << rpad(std::to_string(n.rx_dropped + n.tx_dropped), 7) << "  " << addrs << "\n";
  }
  if (!s.errors.empty()) {
    o << "\n";
    for (const auto& e : s.errors) o << "note: " << e << "\n";
  }
  return o.str();
}

void print(const StatsSample& s, const stats_args& a, bool watching, bool tty) {
  if (a.json) {
    json::print(to_json_value(s));
    return;
  }
  std::string frame = render(s, a, watching);
  if (watching && tty) {
    // Redraw in place: home, each line cleared to its end, rest of screen cleared.
    std::string out = "\x1b[H";
    std::size_t start = 0;
    for (std::size_t nl; (nl = frame.find('\n', start)) != std::string::npos; start = nl + 1)
      out += frame.substr(start, nl - start) + "\x1b[K\n";
    out += "\x1b[J";
    std::cout << out << std::flush;
  } else {
    std::cout << frame << (watching ? "\n" : "") << std::flush;
  }
}

awaitable<int> run_stats(context& ctx, stats_args a) {
  a.json = a.json || ctx.global.json;
  if (a.watch.count() == 0) {
    // Sample twice 250 ms apart (or reuse a recent agent sample) so that
    // CPU percentages and rates are shown.
    auto s = co_await tether::stats::get(
        ctx.client, {.rate_interval = milliseconds(250), .include_idle_devices = a.all_devices}, {ctx.global.timeout});
    print(s, a, false, false);
    co_return exit_ok;
  }

  auto ex = co_await asio::this_coro::executor;
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  auto sub = co_await tether::stats::subscribe(ctx.client,
                                               {.interval = a.watch,
                                                .include_idle_devices = a.all_devices,
                                                .max_samples = static_cast<std::uint32_t>(a.count),
                                                .auto_resume = true},
                                               {ctx.global.timeout});

  // SIGINT/SIGTERM end the watch: cancel the call (the agent answers at
  // once); if it does not within 2 s, drop the connection.
  bool interrupted = false;
  asio::signal_set signals(ex, SIGINT, SIGTERM);
  asio::steady_timer give_up(ex);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    interrupted = true;
    sub.cancel();
    give_up.expires_after(std::chrono::seconds(2));
    give_up.async_wait([&](const boost::system::error_code& e) {
      if (!e) ctx.client.close();
    });
  });
  struct cleanup {
    asio::signal_set& s;
    asio::steady_timer& t;
    ~cleanup() {
      boost::system::error_code ignored;
      s.cancel(ignored);
      t.cancel();
    }
  } done{signals, give_up};

  if (tty && !a.json) std::cout << "\x1b[2J" << std::flush;
  for (;;) {
    std::optional<StatsSample> s;
    try {
      s = co_await sub.next();
    } catch (const tether::error& e) {
      if (!interrupted) throw;
    }
    if (!s) break;
    print(*s, a, true, tty);
  }
  co_return exit_ok;
}

}  // namespace

void add_stats(command_table& t) {
  auto a = std::make_shared<stats_args>();
  auto* app = t.add("stats", "CPU, memory, load, PSI, disks, filesystems and network of the guest",
                    [a](context& c) { return run_stats(c, *a); });
  auto* watch = add_duration(app, "--watch", a->watch,
                             "a new sample every TIME until Ctrl-C (bare number: milliseconds)",
                             {.bare_unit = milliseconds(1),
                              .min = tether::stats::min_interval,
                              .max = tether::stats::max_interval});
  app->add_option("--count", a->count, "with --watch: stop after N samples")
      ->check(in_range(1LL, 1'000'000'000LL))
      ->needs(watch)
      ->type_name("N");
  app->add_flag("--json", a->json, "one JSON object per sample (as the global --json)");
  app->add_flag("--per-cpu", a->per_cpu, "a row per CPU");
  app->add_flag("--all-devices", a->all_devices, "also disks and interfaces that have never been used");
}

}  // namespace tetherctl
