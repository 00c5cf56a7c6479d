// The stats collector over a fixture /proc and /sys tree (so every value is
// known), rate computation, sample size limits, and a statvfs that hangs.
#include "services/stats_collector.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>

namespace tether::agent {
namespace {

namespace fs = std::filesystem;

template <class T>
T run(asio::io_context& ctx, awaitable<T> op) {
  auto fut = asio::co_spawn(ctx, std::move(op), asio::use_future);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("coroutine did not finish");
    if (ctx.stopped()) ctx.restart();
    ctx.run_one_for(std::chrono::milliseconds(50));
  }
  return fut.get();
}

void write(const fs::path& p, std::string_view text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

bool mentions(const v1::StatsSample& s, std::string_view what) {
  for (const auto& e : s.errors())
    if (e.find(what) != std::string::npos) return true;
  return false;
}

// A fixture tree: /proc without PSI, a /sys with one partition and one NIC.
class AStatsCollector : public ::testing::Test {
 protected:
  AStatsCollector() {
    char tmpl[] = "/tmp/tether-stats-XXXXXX";
    root = ::mkdtemp(tmpl);
    const fs::path proc = root / "proc", sys = root / "sys";
    write(proc / "stat",
          "cpu  100 0 50 800 10 0 5 2 0 0\ncpu0 60 0 30 400 5 0 3 1 0 0\ncpu1 40 0 20 400 5 0 2 1 0 0\n"
          "intr 1000 1 2\nctxt 5000\nbtime 1700000000\nprocesses 300\nprocs_running 2\nprocs_blocked 1\n");
    write(proc / "meminfo", "MemTotal: 1000 kB\nMemFree: 200 kB\nMemAvailable: 600 kB\nBuffers: 10 kB\n"
                            "Cached: 300 kB\nSwapTotal: 100 kB\nSwapFree: 40 kB\n");
    write(proc / "loadavg", "1.00 0.50 0.25 3/120 4242\n");
    write(proc / "uptime", "12345.67 20000.00\n");
    write(proc / "diskstats",
          "   7 0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
          " 254 0 vda 100 0 2000 10 50 0 1000 5 1 20 30 0 0 0 0 0 0\n"
          " 254 1 vda1 90 0 1800 9 45 0 900 4 0 18 27 0 0 0 0 0 0\n");
    write(proc / "net" / "dev",
          "Inter-| Receive | Transmit\n face |bytes packets|bytes packets\n"
          "  eth7: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n");
    // A local filesystem (statvfs inline), a network one (on the worker),
    // a pseudo one (skipped) and one that is gone.
    fs::create_directories(root / "remote");
    write(proc / "self" / "mounts",
          "proc /proc proc rw 0 0\n"
          "/dev/fake " + root.string() + " ext4 ro,relatime 0 0\n"
          "server:/export " + (root / "remote").string() + " nfs4 rw 0 0\n"
          "/dev/gone /nonexistent/tether-test ext4 rw 0 0\n");
    fs::create_directories(proc / "1");
    fs::create_directories(proc / "4242");
    fs::create_directories(proc / "sys");
    write(sys / "dev" / "block" / "254:1" / "partition", "1\n");
    fs::create_directories(sys / "dev" / "block" / "254:0");
    write(sys / "class" / "net" / "eth7" / "operstate", "up\n");
    write(sys / "class" / "net" / "eth7" / "mtu", "9000\n");
    roots.proc = proc.string();
    roots.sys = sys.string();
  }
  ~AStatsCollector() override { fs::remove_all(root); }

  fs::path root;
  stats_roots roots;
  asio::io_context ctx;
};

TEST_F(AStatsCollector, ReadsEveryPartOfTheFixtureTree) {
  stats_collector c(ctx.get_executor(), {}, roots);
  auto s = run(ctx, c.collect({}));
  EXPECT_GT(s.realtime_ns(), 0);
  EXPECT_GT(s.monotonic_ns(), 0);
  EXPECT_DOUBLE_EQ(s.uptime_seconds(), 12345.67);
  EXPECT_DOUBLE_EQ(s.idle_seconds(), 20000.0);

  EXPECT_EQ(s.cpu().total().cpu(), -1);
  EXPECT_EQ(s.cpu().total().times().user(), 100u);
  EXPECT_EQ(s.cpu().online_cpus(), 2u);
  ASSERT_EQ(s.cpu().per_cpu_size(), 2);
  EXPECT_EQ(s.cpu().per_cpu(1).cpu(), 1);
  EXPECT_EQ(s.cpu().per_cpu(1).times().system(), 20u);
  EXPECT_FALSE(s.cpu().total().has_percent());  // one sample: no rates
  EXPECT_EQ(s.cpu().context_switches(), 5000u);
  EXPECT_EQ(s.cpu().interrupts(), 1000u);
  EXPECT_EQ(s.cpu().forks(), 300u);
  EXPECT_EQ(s.cpu().procs_running(), 2u);
  EXPECT_EQ(s.cpu().procs_blocked(), 1u);
  EXPECT_EQ(s.cpu().boot_time_seconds(), 1700000000u);
  EXPECT_GT(s.cpu().clock_ticks_per_second(), 0u);

  EXPECT_EQ(s.memory().total_bytes(), 1000u * 1024);
  EXPECT_EQ(s.memory().available_bytes(), 600u * 1024);
  EXPECT_EQ(s.memory().used_bytes(), 400u * 1024);
  EXPECT_EQ(s.memory().swap_total_bytes(), 100u * 1024);
  EXPECT_EQ(s.memory().swap_free_bytes(), 40u * 1024);

  EXPECT_DOUBLE_EQ(s.load().load1(), 1.0);
  EXPECT_EQ(s.load().running_tasks(), 3u);
  EXPECT_EQ(s.load().total_tasks(), 120u);
  EXPECT_EQ(s.load().last_pid(), 4242u);

  // No /proc/pressure in the tree: unset, and not an error.
  EXPECT_FALSE(s.has_pressure());
  EXPECT_FALSE(mentions(s, "pressure"));

  EXPECT_EQ(s.process_count(), 2u);  // "1" and "4242", not "sys" or "self"

  ASSERT_EQ(s.disks_size(), 2);  // idle loop0 left out
  EXPECT_EQ(s.disks(0).name(), "vda");
  EXPECT_FALSE(s.disks(0).partition());
  EXPECT_EQ(s.disks(0).sectors_read(), 2000u);
  EXPECT_EQ(s.disks(0).ios_in_progress(), 1u);
  EXPECT_EQ(s.disks(1).name(), "vda1");
  EXPECT_TRUE(s.disks(1).partition());

  ASSERT_EQ(s.interfaces_size(), 1);
  EXPECT_EQ(s.interfaces(0).name(), "eth7");
  EXPECT_EQ(s.interfaces(0).oper_state(), "up");
  EXPECT_EQ(s.interfaces(0).mtu(), 9000u);
  EXPECT_EQ(s.interfaces(0).rx_bytes(), 1000u);
  EXPECT_EQ(s.interfaces(0).tx_packets(), 20u);

  // proc skipped; both real paths measured, in mount order; the missing
  // mount point reported.
  ASSERT_EQ(s.filesystems_size(), 2);
  EXPECT_EQ(s.filesystems(0).mount_point(), root.string());
  EXPECT_EQ(s.filesystems(0).device(), "/dev/fake");
  EXPECT_TRUE(s.filesystems(0).read_only());
  EXPECT_GT(s.filesystems(0).total_bytes(), 0u);
  EXPECT_EQ(s.filesystems(0).used_bytes() + s.filesystems(0).free_bytes(), s.filesystems(0).total_bytes());
  EXPECT_EQ(s.filesystems(1).fs_type(), "nfs4");
  EXPECT_EQ(s.filesystems(1).device(), "server:/export");
  EXPECT_EQ(s.filesystems(1).total_bytes(), s.filesystems(0).total_bytes());  // same disk underneath
  EXPECT_TRUE(mentions(s, "statvfs(/nonexistent/tether-test)")) << s.DebugString();
}

TEST_F(AStatsCollector, ListsIdleVirtualDevicesOnlyWhenAsked) {
  stats_collector c(ctx.get_executor(), {}, roots);
  auto s = run(ctx, c.collect({.include_idle_devices = true}));
  ASSERT_EQ(s.disks_size(), 3);
  EXPECT_EQ(s.disks(0).name(), "loop0");
}

TEST_F(AStatsCollector, ReportsMissingFilesAsErrorsAndGoesOn) {
  fs::remove(root / "proc" / "meminfo");
  fs::remove(root / "proc" / "diskstats");
  stats_collector c(ctx.get_executor(), {}, roots);
  auto s = run(ctx, c.collect({}));
  EXPECT_FALSE(s.has_memory());
  EXPECT_TRUE(mentions(s, "meminfo"));
  EXPECT_TRUE(mentions(s, "diskstats"));
  EXPECT_EQ(s.cpu().online_cpus(), 2u);  // the rest is still there
  EXPECT_EQ(s.interfaces_size(), 1);
}

TEST_F(AStatsCollector, ReadsPressureWhereTheKernelHasIt) {
  write(root / "proc" / "pressure" / "cpu", "some avg10=1.00 avg60=2.00 avg300=3.00 total=400\n");
  write(root / "proc" / "pressure" / "io",
        "some avg10=0.10 avg60=0.20 avg300=0.30 total=5\nfull avg10=0.01 avg60=0.02 avg300=0.03 total=6\n");
  stats_collector c(ctx.get_executor(), {}, roots);
  auto s = run(ctx, c.collect({}));
  ASSERT_TRUE(s.has_pressure());
  EXPECT_TRUE(s.pressure().has_cpu());
  EXPECT_DOUBLE_EQ(s.pressure().cpu().some().avg60(), 2.0);
  EXPECT_FALSE(s.pressure().cpu().has_full());
  EXPECT_FALSE(s.pressure().has_memory());
  EXPECT_EQ(s.pressure().io().full().total_us(), 6u);
}

TEST_F(AStatsCollector, SeesUpdatedFilesOnItsKeptDescriptors) {
  stats_collector c(ctx.get_executor(), {}, roots);
  auto a = run(ctx, c.collect({}));
  // Rewritten in place (same inode), as the kernel's files change.
  {
    std::fstream f(root / "proc" / "loadavg", std::ios::in | std::ios::out);
    f << "9.00 0.50 0.25 3/120 4243\n";
  }
  auto b = run(ctx, c.collect({}));
  EXPECT_DOUBLE_EQ(a.load().load1(), 1.0);
  EXPECT_DOUBLE_EQ(b.load().load1(), 9.0);
}

TEST_F(AStatsCollector, CutsListsAtTheirLimitAndSaysSo) {
  std::string many = "Inter-|\n face |\n";
  for (int i = 0; i < 10; ++i) many += "  if" + std::to_string(i) + ": 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n";
  write(root / "proc" / "net" / "dev", many);
  stats_collector c(ctx.get_executor(), {.max_list_entries = 4}, roots);
  auto s = run(ctx, c.collect({}));
  EXPECT_EQ(s.interfaces_size(), 4);
  EXPECT_TRUE(mentions(s, "interface list cut at 4 of 10"));
}

// --- a statvfs that hangs, as on a dead NFS server ---------------------------

std::mutex hang_mutex;
std::condition_variable hang_cv;
bool hang_released = false;
std::map<std::string, int> hang_calls;  // per path: each test has its own root

// Hangs for the network mounts ("remote" in the path) until released.
int hanging_statvfs(const char* path, struct statvfs* st) {
  if (std::string_view(path).find("remote") == std::string_view::npos) return ::statvfs(path, st);
  std::unique_lock lock(hang_mutex);
  ++hang_calls[path];
  hang_cv.wait(lock, [] { return hang_released; });
  return ::statvfs(path, st);
}

void release_hang() {
  {
    std::lock_guard lock(hang_mutex);
    hang_released = true;
  }
  hang_cv.notify_all();
}

// A local filesystem and two network ones, whose statvfs hangs.
void local_and_network_mounts(const fs::path& root) {
  fs::create_directories(root / "remote2");
  write(root / "proc" / "self" / "mounts", "/dev/fake " + root.string() + " ext4 rw 0 0\n" +
                                               "server:/a " + (root / "remote").string() + " nfs4 rw 0 0\n" +
                                               "server:/b " + (root / "remote2").string() + " cifs rw 0 0\n");
}

TEST_F(AStatsCollector, SendsSamplesWithoutNetworkFilesystemsWhileStatvfsHangs) {
  {
    std::lock_guard lock(hang_mutex);
    hang_released = false;
  }
  local_and_network_mounts(root);
  const std::string first = (root / "remote").string();
  roots.statvfs_fn = hanging_statvfs;
  stats_collector c(ctx.get_executor(), {.statvfs_timeout = std::chrono::milliseconds(50)}, roots);
  auto a = run(ctx, c.collect({}));
  ASSERT_EQ(a.filesystems_size(), 1);  // the local one is still there
  EXPECT_EQ(a.filesystems(0).mount_point(), root.string());
  EXPECT_TRUE(mentions(a, "statvfs(" + first + ") has not returned")) << a.DebugString();
  EXPECT_EQ(a.cpu().online_cpus(), 2u);  // everything else is there
  // While it hangs, later samples do not start another job (or wait again).
  auto b = run(ctx, c.collect({}));
  EXPECT_TRUE(mentions(b, "has not returned"));
  {
    std::lock_guard lock(hang_mutex);
    EXPECT_EQ(hang_calls[first], 1);
  }
  release_hang();
  // Once it is back, filesystems return.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  v1::StatsSample s;
  do {
    s = run(ctx, c.collect({}));
  } while (s.filesystems_size() < 3 && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(s.filesystems_size(), 3);
}

TEST_F(AStatsCollector, CanBeDestroyedWhileStatvfsHangs) {
  {
    std::lock_guard lock(hang_mutex);
    hang_released = false;
  }
  local_and_network_mounts(root);
  roots.statvfs_fn = hanging_statvfs;
  {
    stats_collector c(ctx.get_executor(), {.statvfs_timeout = std::chrono::milliseconds(20)}, roots);
    auto a = run(ctx, c.collect({}));
    EXPECT_TRUE(mentions(a, "has not returned"));
  }  // must not join the stuck thread
  release_hang();  // the detached thread finishes on its own
  SUCCEED();
}

// --- rates ------------------------------------------------------------------------

v1::StatsSample sample_at(std::int64_t mono_ns) {
  v1::StatsSample s;
  s.set_monotonic_ns(mono_ns);
  return s;
}

void times(v1::Cpu& c, std::uint64_t user, std::uint64_t system, std::uint64_t idle, std::uint64_t iowait,
           std::uint64_t steal = 0) {
  auto* t = c.mutable_times();
  t->set_user(user);
  t->set_system(system);
  t->set_idle(idle);
  t->set_iowait(iowait);
  t->set_steal(steal);
}

TEST(ComputeRates, GivesCpuSharesThatAddUpToAHundred) {
  auto a = sample_at(1'000'000'000), b = sample_at(2'000'000'000);
  times(*a.mutable_cpu()->mutable_total(), 100, 100, 100, 100);
  times(*b.mutable_cpu()->mutable_total(), 150, 110, 130, 100, 10);  // +50 +10 +30 +0 +10
  compute_rates(a, b);
  EXPECT_EQ(b.interval_ns(), 1'000'000'000u);
  const auto& p = b.cpu().total().percent();
  EXPECT_DOUBLE_EQ(p.user(), 50);
  EXPECT_DOUBLE_EQ(p.system(), 10);
  EXPECT_DOUBLE_EQ(p.idle(), 30);
  EXPECT_DOUBLE_EQ(p.steal(), 10);
  EXPECT_DOUBLE_EQ(p.busy(), 70);
  EXPECT_DOUBLE_EQ(p.user() + p.nice() + p.system() + p.idle() + p.iowait() + p.irq() + p.softirq() + p.steal(), 100);
}

TEST(ComputeRates, SaysExactlyAHundredForAFullyBusyCpu) {
  auto a = sample_at(0), b = sample_at(1'000'000'000);
  times(*a.mutable_cpu()->mutable_total(), 0, 0, 0, 0);
  times(*b.mutable_cpu()->mutable_total(), 0, 0, 0, 0, 97);  // all steal
  compute_rates(a, b);
  EXPECT_EQ(b.cpu().total().percent().steal(), 100.0);
  EXPECT_EQ(b.cpu().total().percent().busy(), 100.0);
  EXPECT_EQ(b.cpu().total().percent().idle(), 0.0);
}

TEST(ComputeRates, TreatsACounterGoingBackwardsAsNoChange) {
  // iowait is known to decrease on some kernels.
  auto a = sample_at(0), b = sample_at(100'000'000);
  times(*a.mutable_cpu()->mutable_total(), 10, 10, 10, 50);
  times(*b.mutable_cpu()->mutable_total(), 20, 10, 20, 40);
  compute_rates(a, b);
  const auto& p = b.cpu().total().percent();
  EXPECT_DOUBLE_EQ(p.iowait(), 0);
  EXPECT_DOUBLE_EQ(p.user(), 50);
  EXPECT_GE(p.busy(), 0);
  EXPECT_LE(p.busy(), 100);
}

TEST(ComputeRates, MatchesCpusByNumberAndLeavesNewOnesUnset) {
  auto a = sample_at(0), b = sample_at(1'000'000'000);
  auto* a0 = a.mutable_cpu()->add_per_cpu();
  a0->set_cpu(3);
  times(*a0, 0, 0, 0, 0);
  auto* b0 = b.mutable_cpu()->add_per_cpu();
  b0->set_cpu(5);  // hotplugged since
  times(*b0, 10, 0, 10, 0);
  auto* b1 = b.mutable_cpu()->add_per_cpu();
  b1->set_cpu(3);
  times(*b1, 25, 0, 75, 0);
  compute_rates(a, b);
  EXPECT_FALSE(b.cpu().per_cpu(0).has_percent());
  ASSERT_TRUE(b.cpu().per_cpu(1).has_percent());
  EXPECT_DOUBLE_EQ(b.cpu().per_cpu(1).percent().busy(), 25);
}

TEST(ComputeRates, LeavesPercentUnsetWhenNoTickElapsed) {
  auto a = sample_at(0), b = sample_at(1'000'000);
  times(*a.mutable_cpu()->mutable_total(), 1, 1, 1, 1);
  times(*b.mutable_cpu()->mutable_total(), 1, 1, 1, 1);
  compute_rates(a, b);
  EXPECT_FALSE(b.cpu().total().has_percent());
}

TEST(ComputeRates, SetsNothingWhenTimeDidNotAdvance) {
  auto a = sample_at(5), b = sample_at(5);
  times(*a.mutable_cpu()->mutable_total(), 0, 0, 0, 0);
  times(*b.mutable_cpu()->mutable_total(), 10, 0, 0, 0);
  compute_rates(a, b);
  EXPECT_EQ(b.interval_ns(), 0u);
  EXPECT_FALSE(b.cpu().total().has_percent());
  EXPECT_FALSE(b.cpu().has_context_switches_per_second());
}

TEST(ComputeRates, ComputesDiskAndNetworkRatesPerSecond) {
  auto a = sample_at(0), b = sample_at(2'000'000'000);  // 2 s
  auto disk = [](v1::StatsSample& s, std::uint64_t rd, std::uint64_t wr, std::uint64_t io_ms, std::uint32_t minor) {
    auto* d = s.add_disks();
    d->set_name("vda");
    d->set_major(254);
    d->set_minor(minor);
    d->set_sectors_read(rd);
    d->set_sectors_written(wr);
    d->set_reads_completed(rd / 8);
    d->set_io_ms(io_ms);
  };
  disk(a, 0, 1000, 100, 0);
  disk(b, 4096, 3000, 1100, 0);
  auto net = [](v1::StatsSample& s, std::uint64_t rx, std::uint64_t tx) {
    auto* n = s.add_interfaces();
    n->set_name("eth0");
    n->set_rx_bytes(rx);
    n->set_tx_bytes(tx);
    n->set_rx_packets(rx / 100);
  };
  net(a, 1000, 5000);
  net(b, 201000, 4000);  // tx went backwards: counter reset
  compute_rates(a, b);
  const auto& d = b.disks(0);
  EXPECT_DOUBLE_EQ(d.read_bytes_per_second(), 4096.0 * 512 / 2);
  EXPECT_DOUBLE_EQ(d.write_bytes_per_second(), 2000.0 * 512 / 2);
  EXPECT_DOUBLE_EQ(d.reads_per_second(), 256);
  EXPECT_DOUBLE_EQ(d.busy_percent(), 50);
  const auto& n = b.interfaces(0);
  EXPECT_DOUBLE_EQ(n.rx_bytes_per_second(), 100000);
  EXPECT_DOUBLE_EQ(n.tx_bytes_per_second(), 0);
  EXPECT_DOUBLE_EQ(n.rx_packets_per_second(), 1000);
}

TEST(ComputeRates, DoesNotCompareADeviceWithAnotherOfTheSameName) {
  auto a = sample_at(0), b = sample_at(1'000'000'000);
  auto* da = a.add_disks();
  da->set_name("sdb");
  da->set_minor(16);
  auto* db = b.add_disks();
  db->set_name("sdb");
  db->set_minor(32);  // unplugged and a new disk took the name
  db->set_sectors_read(100);
  compute_rates(a, b);
  EXPECT_FALSE(b.disks(0).has_read_bytes_per_second());
}

TEST(FitSample, DropsDetailUntilTheSampleFits) {
  v1::StatsSample s;
  for (int i = 0; i < 2000; ++i) {
    auto* c = s.mutable_cpu()->add_per_cpu();
    c->set_cpu(i);
    times(*c, 1u << 30, 1u << 30, 1u << 30, 1u << 30);
  }
  for (int i = 0; i < 50; ++i) s.add_interfaces()->set_name("veth" + std::to_string(i));
  const auto before = s.ByteSizeLong();
  fit_sample(s, 20'000);
  EXPECT_LT(s.ByteSizeLong(), 20'000u);
  EXPECT_LT(s.ByteSizeLong(), before);
  EXPECT_EQ(s.cpu().per_cpu_size(), 0);
  EXPECT_EQ(s.interfaces_size(), 50);  // small enough after the CPUs went
  EXPECT_TRUE(mentions(s, "per-CPU detail dropped"));
}

}  // namespace
}  // namespace tether::agent
