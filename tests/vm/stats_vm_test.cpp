// stats over a real virtio-serial port, compared with the guest's own /proc
// as read through qemu-ga (so the comparison does not trust tether).
#include "support/async.hpp"
#include "support/proc_text.hpp"
#include "support/qga_client.hpp"
#include "support/tetherctl_runner.hpp"
#include "tether/client.hpp"
#include "tether/stats.hpp"
#include "vm_fixture.hpp"

namespace tether {
namespace {

using test::run_for;
using std::chrono::milliseconds;
namespace proc = test::proc;

using GuestStats = test::vm_client_test;

// utime + stime (clock ticks) of a guest process, via qemu-ga.
long guest_cpu_ticks(test::qga_client& qga, std::uint32_t pid) {
  return proc::cpu_ticks(qga.read_file("/proc/" + std::to_string(pid) + "/stat"));
}

TEST_F(GuestStats, AgreeWithTheGuestsProc) {
  test::qga_client qga(guest.qga_socket());
  const double up_before = std::stod(qga.read_file("/proc/uptime"));
  auto s = run_for(ctx, stats::get(guest_client), 120s);
  const double up_after = std::stod(qga.read_file("/proc/uptime"));
  const std::string meminfo = qga.read_file("/proc/meminfo");
  const std::string stat = qga.read_file("/proc/stat");

  EXPECT_EQ(s.memory.total_bytes, proc::kib_field(meminfo, "MemTotal") * 1024);
  EXPECT_EQ(s.memory.swap_total_bytes, proc::kib_field(meminfo, "SwapTotal") * 1024);
  EXPECT_EQ(s.cpu.online_cpus, proc::cpu_lines(stat));
  EXPECT_EQ(s.cpu.boot_time_seconds, proc::stat_value(stat, "btime"));
  EXPECT_GE(s.uptime_seconds, up_before - 0.01);
  EXPECT_LE(s.uptime_seconds, up_after + 0.01);
  EXPECT_GT(s.process_count, 0u);
  EXPECT_GT(s.load.total_tasks, 0u);

  // Interfaces: exactly the guest's /proc/net/dev.
  const auto names = proc::interface_names(qga.read_file("/proc/net/dev"));
  ASSERT_EQ(s.interfaces.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(s.interfaces[i].name, names[i]);

  // Disks that did I/O in the guest are listed.
  for (const auto& name : proc::disks_that_read(qga.read_file("/proc/diskstats"))) {
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
  for (const char* args : {"stats", "--json stats --watch 100 --count 3"}) {
    const auto r = test::run_tetherctl("--socket " + guest.tether_socket() + " --timeout 60 " + args);
    EXPECT_EQ(r.status, 0) << args << ":\n" << r.out;
  }
}

}  // namespace
}  // namespace tether
