// stats over a real virtio-serial port, compared with the guest's own /proc
// as read through qemu-ga (so the comparison does not trust tether).
#include <sys/wait.h>

#include <sstream>

#include "support/build_paths.hpp"
#include "support/async.hpp"
#include "support/qga_client.hpp"
#include "tether/client.hpp"
#include "tether/stats.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using std::chrono::milliseconds;

class GuestStats : public test::vm_test {
 protected:
  asio::io_context ctx;
  client guest_client{ctx.get_executor(), {.socket_path = guest.tether_socket(), .call_timeout = 60s}};

  std::string guest_file(test::qga_client& qga, const std::string& path) {
    auto r = qga.exec({"/bin/cat", path});
    if (r.exit_code != 0) throw std::runtime_error("cannot read " + path + " in the guest: " + r.err);
    return r.out;
  }
};

std::uint64_t meminfo_kb(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k, unit;
  std::uint64_t v = 0;
  while (in >> k >> v) {
    std::getline(in, unit);
    if (k == key + ":") return v;
  }
  return 0;
}

std::uint32_t cpu_lines(const std::string& stat) {
  std::istringstream in(stat);
  std::string line;
  std::uint32_t n = 0;
  while (std::getline(in, line))
    if (line.size() > 3 && line.starts_with("cpu") && std::isdigit(static_cast<unsigned char>(line[3]))) ++n;
  return n;
}

std::uint64_t stat_value(const std::string& stat, const std::string& key) {
  std::istringstream in(stat);
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(key + " ")) return std::stoull(line.substr(key.size() + 1));
  return 0;
}

// utime + stime (clock ticks) of a guest process, via qemu-ga.
long guest_cpu_ticks(test::qga_client& qga, std::uint32_t pid) {
  auto r = qga.exec({"/bin/cat", "/proc/" + std::to_string(pid) + "/stat"});
  if (r.exit_code != 0) throw std::runtime_error("cannot read the agent's stat: " + r.err);
  std::istringstream in(r.out.substr(r.out.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return utime + stime;
}

TEST_F(GuestStats, AgreeWithTheGuestsProc) {
  test::qga_client qga(guest.qga_socket());
  const double up_before = std::stod(guest_file(qga, "/proc/uptime"));
  auto s = run_for(ctx, stats::get(guest_client), 120s);
  const double up_after = std::stod(guest_file(qga, "/proc/uptime"));
  const std::string meminfo = guest_file(qga, "/proc/meminfo");
  const std::string stat = guest_file(qga, "/proc/stat");

  EXPECT_EQ(s.memory.total_bytes, meminfo_kb(meminfo, "MemTotal") * 1024);
  EXPECT_EQ(s.memory.swap_total_bytes, meminfo_kb(meminfo, "SwapTotal") * 1024);
  EXPECT_EQ(s.cpu.online_cpus, cpu_lines(stat));
  EXPECT_EQ(s.cpu.boot_time_seconds, stat_value(stat, "btime"));
  EXPECT_GE(s.uptime_seconds, up_before - 0.01);
  EXPECT_LE(s.uptime_seconds, up_after + 0.01);
  EXPECT_GT(s.process_count, 0u);
  EXPECT_GT(s.load.total_tasks, 0u);

  // Interfaces: exactly the guest's /proc/net/dev.
  std::istringstream net(guest_file(qga, "/proc/net/dev"));
  std::string line;
  std::vector<std::string> names;
  while (std::getline(net, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.find('|') != std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    names.push_back(name);
  }
  ASSERT_EQ(s.interfaces.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(s.interfaces[i].name, names[i]);

  // Disks that did I/O in the guest are listed.
  std::istringstream ds(guest_file(qga, "/proc/diskstats"));
  while (std::getline(ds, line)) {
    std::istringstream l(line);
    std::string maj, min, name;
    std::uint64_t reads = 0;
    l >> maj >> min >> name >> reads;
    if (reads == 0) continue;
    const bool listed = std::any_of(s.disks.begin(), s.disks.end(), [&](const auto& d) { return d.name == name; });
    EXPECT_TRUE(listed) << name;
  }

  // PSI exactly where the guest kernel has it.
  const bool psi = qga.exec({"/bin/cat", "/proc/pressure/cpu"}).exit_code == 0;
  EXPECT_EQ(s.pressure.has_value(), psi);
  for (const auto& f : s.filesystems) EXPECT_GT(f.total_bytes, 0u) << f.mount_point;
}

TEST_F(GuestStats, StreamSamplesAtTheRequestedInterval) {
  std::vector<stats::sample> got;
  run_for(ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(guest_client, {.interval = milliseconds(100), .max_samples = 8});
    for (;;) {
      auto s = co_await sub.next();
      if (!s) break;
      got.push_back(std::move(*s));
    }
  }(), 120s);
  ASSERT_EQ(got.size(), 8u);
  for (std::size_t i = 1; i < got.size(); ++i) {
    EXPECT_GT(got[i].monotonic_ns, got[i - 1].monotonic_ns);
    EXPECT_EQ(got[i].sequence, i + 1);
    ASSERT_TRUE(got[i].cpu.total.percent.has_value());
    const auto& p = got[i].cpu.total.percent.value();
    EXPECT_GE(p.busy, 0.0);
    EXPECT_LE(p.busy, 100.0);
  }
}

// Prints what a 100 ms subscription costs the agent inside a (TCG) guest.
TEST_F(GuestStats, MeasureTheAgentsCpuCostInTheGuest) {
  const auto pid = run_for(ctx, guest_client.info(), 120s).agent_pid;
  test::qga_client qga(guest.qga_socket());
  long ticks = 0;
  double secs = 0;
  run_for(ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(guest_client, {.interval = milliseconds(100), .max_samples = 31});
    auto first = co_await sub.next();
    EXPECT_TRUE(first.has_value());
    const long t0 = guest_cpu_ticks(qga, pid);
    const auto w0 = std::chrono::steady_clock::now();
    for (;;) {
      auto s = co_await sub.next();
      if (!s) break;
    }
    secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    ticks = guest_cpu_ticks(qga, pid) - t0;
  }(), 180s);
  const double pct = static_cast<double>(ticks) / 100.0 / secs * 100.0;  // USER_HZ 100
  std::printf("[ stats cost ] guest agent, 100 ms subscription: %ld ticks in %.2f s = %.1f%% of one guest CPU (TCG)\n",
              ticks, secs, pct);
  EXPECT_LT(pct, 50.0) << "the agent looks busy-looping";
}

TEST_F(GuestStats, ShowInTetherctl) {
  const std::string base = std::string(test::tetherctl_binary) + " --socket " + guest.tether_socket() + " --timeout 60 ";
  EXPECT_EQ(WEXITSTATUS(std::system((base + "stats >/dev/null 2>&1").c_str())), 0);
  EXPECT_EQ(WEXITSTATUS(std::system((base + "--json stats --watch 100 --count 3 >/dev/null 2>&1").c_str())), 0);
}

}  // namespace
}  // namespace tether
