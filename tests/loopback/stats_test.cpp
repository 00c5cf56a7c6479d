// stats.Get and stats.Subscribe: the real agent reads this machine's /proc,
// so its samples are checked against what the test reads itself.
#include <google/protobuf/util/json_util.h>
#include <fcntl.h>
#include <gtest/gtest.h>

#include "support/build_paths.hpp"
#include "support/tetherctl_runner.hpp"
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/agent_client.hpp"
#include "support/async.hpp"
#include "support/proc_text.hpp"
#include "support/slurp.hpp"
#include "tether/client.hpp"
#include "tether/stats.hpp"
#include "tether/v1/stats.pb.h"
#include "typed_call.hpp"

namespace tether {
namespace {

using test::run_for;
using test::slurp;
using std::chrono::milliseconds;
namespace proc = test::proc;

std::uint64_t meminfo_bytes(const std::string& key) { return proc::kib_field(slurp("/proc/meminfo"), key) * 1024; }

double proc_uptime() { return std::stod(slurp("/proc/uptime")); }

void expect_percent_in_range(const stats::cpu_percent& p, const std::string& what) {
  for (double v : {p.user, p.nice, p.system, p.idle, p.iowait, p.irq, p.softirq, p.steal, p.busy}) {
    EXPECT_GE(v, 0.0) << what;
    EXPECT_LE(v, 100.0) << what;
  }
  EXPECT_NEAR(p.user + p.nice + p.system + p.idle + p.iowait + p.irq + p.softirq + p.steal, 100.0,
              1e-6)
      << what;
}

using AStatsAgent = test::agent_client_test;

TEST_F(AStatsAgent, ReportsThisMachinesProcValues) {
  const double up_before = proc_uptime();
  auto s = run_for(ctx, stats::get(guest));
  const double up_after = proc_uptime();

  EXPECT_EQ(s.memory.total_bytes, meminfo_bytes("MemTotal"));
  EXPECT_EQ(s.memory.swap_total_bytes, meminfo_bytes("SwapTotal"));
  EXPECT_EQ(s.cpu.online_cpus, proc::cpu_lines(slurp("/proc/stat")));
  EXPECT_EQ(s.cpu.online_cpus, static_cast<std::uint32_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_EQ(s.cpu.per_cpu.size(), static_cast<std::size_t>(s.cpu.online_cpus));
  EXPECT_EQ(s.cpu.boot_time_seconds, proc::stat_value(slurp("/proc/stat"), "btime"));
  EXPECT_EQ(s.cpu.clock_ticks_per_second, static_cast<std::uint32_t>(::sysconf(_SC_CLK_TCK)));
  EXPECT_GE(s.uptime_seconds, up_before - 0.01);
  EXPECT_LE(s.uptime_seconds, up_after + 0.01);
  EXPECT_GT(s.memory.available_bytes.value(), 0u);
  EXPECT_LE(s.memory.used_bytes, s.memory.total_bytes);
  EXPECT_GT(s.load.total_tasks, 0u);
  EXPECT_GT(s.process_count, 1u);

  // Same machine, same clocks.
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const std::int64_t host_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  EXPECT_LE(s.realtime_ns, host_ns);
  EXPECT_GT(s.realtime_ns, host_ns - 10'000'000'000);

  // PSI: present exactly where this kernel has it.
  const bool has_psi = !slurp("/proc/pressure/cpu").empty();
  EXPECT_EQ(s.pressure.has_value(), has_psi);
  if (has_psi) {
    EXPECT_TRUE(s.pressure.value().cpu.value().some.has_value());
  }

  // The root filesystem is listed; no pseudo filesystems are.
  bool root = false;
  for (const auto& f : s.filesystems) {
    if (f.mount_point == "/") root = true;
    EXPECT_NE(f.fs_type, "proc");
    EXPECT_NE(f.fs_type, "sysfs");
    EXPECT_NE(f.fs_type, "cgroup2");
    EXPECT_GT(f.total_bytes, 0u) << f.mount_point;
    EXPECT_LE(f.available_bytes, f.free_bytes) << f.mount_point;
  }
  EXPECT_TRUE(root) << "no / among " << s.filesystems.size() << " filesystems";

  // Loopback with its address and state.
  bool lo = false;
  for (const auto& n : s.interfaces) {
    if (n.name != "lo") continue;
    lo = true;
    EXPECT_TRUE(n.loopback);
    EXPECT_TRUE(n.admin_up);
    bool v4 = false;
    for (const auto& a : n.addresses)
      if (a.address == "127.0.0.1" && a.prefix_length == 8) v4 = true;
    EXPECT_TRUE(v4) << n.addresses.size() << " addresses on lo";
  }
  EXPECT_TRUE(lo);

  // Every device of /proc/diskstats that did I/O is listed.
  for (const auto& name : proc::disks_that_read(slurp("/proc/diskstats"))) {
    const bool listed = std::any_of(s.disks.begin(), s.disks.end(), [&](const auto& d) { return d.name == name; });
    EXPECT_TRUE(listed) << name;
  }
  EXPECT_TRUE(s.errors.empty()) << s.errors.front();
}

TEST_F(AStatsAgent, LeavesRatesUnsetWithoutAnEarlierSample) {
  auto s = run_for(ctx, stats::get(guest));
  EXPECT_EQ(s.interval_ns, 0u);
  EXPECT_FALSE(s.cpu.total.percent.has_value());
  EXPECT_FALSE(s.cpu.context_switches_per_second.has_value());
  for (const auto& n : s.interfaces) EXPECT_FALSE(n.rx_bytes_per_second.has_value());
}

TEST_F(AStatsAgent, ComputesRatesOverTheRequestedInterval) {
  auto s = run_for(ctx, stats::get(guest, {.rate_interval = milliseconds(100)}));
  EXPECT_GE(s.interval_ns, 100'000'000u);
  ASSERT_TRUE(s.cpu.total.percent.has_value());
  expect_percent_in_range(s.cpu.total.percent.value(), "total");
  for (const auto& c : s.cpu.per_cpu)
    if (c.percent.has_value()) expect_percent_in_range(c.percent.value(), "cpu" + std::to_string(c.number));
  for (const auto& n : s.interfaces) {
    EXPECT_TRUE(n.rx_bytes_per_second.has_value()) << n.name;
    EXPECT_GE(n.rx_bytes_per_second.value(), 0) << n.name;
  }
  for (const auto& d : s.disks) {
    EXPECT_TRUE(d.busy_percent.has_value()) << d.name;
    EXPECT_LE(d.busy_percent.value(), 100) << d.name;
  }
}

TEST_F(AStatsAgent, ReusesARecentSampleForTheRatesOfAGet) {
  // A running subscription keeps a recent sample in the agent; a Get then
  // has rates at once, against it.
  run_for(ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(guest, {.interval = milliseconds(100)});
    for (int i = 0; i < 3; ++i) {  // samples 200 ms old and more exist now
      auto s = co_await sub.next();
      EXPECT_TRUE(s.has_value());
    }
    auto s = co_await stats::get(guest);  // rate_interval 0: never samples twice
    EXPECT_GE(s.interval_ns, 100'000'000u);
    EXPECT_LE(s.interval_ns, 10'000'000'000u);
    EXPECT_TRUE(s.cpu.total.percent.has_value());
  }());
}

TEST_F(AStatsAgent, RejectsIntervalsOutOfRange) {
  EXPECT_THROW((void)stats::subscription(guest, {.interval = milliseconds(10)}), error);
  EXPECT_THROW(run_for(ctx, stats::get(guest, {.rate_interval = milliseconds(60'000)})), error);
  // The agent checks too, whatever the host library lets through.
  v1::StatsSubscribeRequest req;
  req.set_interval_ms(5);
  try {
    run_for(ctx, [&]() -> awaitable<void> {
      auto call = co_await guest.start("stats.Subscribe", req.SerializeAsString());
      co_await call->finish();
    }());
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("interval_ms must be from 50"), std::string::npos) << e.what();
  }
  v1::StatsGetRequest get;
  get.set_rate_interval_ms(20'000);
  try {
    run_for(ctx, detail::call<v1::StatsSample>(guest, "stats.Get", get));
    FAIL() << "expected an error";
  } catch (const error& e) {
    EXPECT_EQ(e.remote_code(), remote_errc::invalid_argument);
  }
}

TEST_F(AStatsAgent, PushesSamplesWithIncreasingTimestampsAndSaneRates) {
  std::vector<stats::sample> got;
  run_for(ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(guest, {.interval = milliseconds(100), .max_samples = 6});
    for (;;) {
      auto s = co_await sub.next();
      if (!s) break;
      got.push_back(std::move(*s));
    }
    EXPECT_EQ(sub.samples_received(), 6u);
  }());
  ASSERT_EQ(got.size(), 6u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& s = got[i];
    EXPECT_EQ(s.sequence, i + 1);
    EXPECT_EQ(s.skipped, 0u);
    if (i == 0) {
      EXPECT_FALSE(s.cpu.total.percent.has_value());
      continue;
    }
    EXPECT_GT(s.monotonic_ns, got[i - 1].monotonic_ns);
    EXPECT_GT(s.realtime_ns, got[i - 1].realtime_ns);
    EXPECT_EQ(s.interval_ns, static_cast<std::uint64_t>(s.monotonic_ns - got[i - 1].monotonic_ns));
    ASSERT_TRUE(s.cpu.total.percent.has_value()) << "sample " << i;
    expect_percent_in_range(s.cpu.total.percent.value(), "sample " + std::to_string(i));
    for (const auto& c : s.cpu.per_cpu)
      if (c.percent.has_value()) expect_percent_in_range(c.percent.value(), "cpu" + std::to_string(c.number));
    EXPECT_TRUE(s.cpu.context_switches_per_second.has_value());
  }
}

TEST_F(AStatsAgent, EndsASubscriptionOnCancel) {
  run_for(ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(guest, {.interval = milliseconds(50)});
    auto first = co_await sub.next();
    EXPECT_TRUE(first.has_value());
    sub.cancel();
    // Samples already in flight may still come; then the end.
    int extra = 0;
    for (;;) {
      auto s = co_await sub.next();
      if (!s) break;
      ++extra;
    }
    EXPECT_LE(extra, 256);
    // The agent is still fine.
    auto pong = co_await guest.ping("after");
    EXPECT_EQ(pong.payload, "after");
  }());
}

TEST_F(AStatsAgent, LimitsHowManySubscriptionsRunAtOnce) {
  run_for(ctx, [&]() -> awaitable<void> {
    std::vector<stats::subscription> subs;
    for (int i = 0; i < 16; ++i) {
      subs.push_back(co_await stats::subscribe(guest, {.interval = milliseconds(1000)}));
      auto first = co_await subs.back().next();
      EXPECT_TRUE(first.has_value()) << i;
    }
    auto extra = co_await stats::subscribe(guest, {.interval = milliseconds(1000)});
    bool refused = false;
    try {
      (void)co_await extra.next();
    } catch (const error& e) {
      refused = e.remote_code() == remote_errc::resource_exhausted;
    }
    EXPECT_TRUE(refused);
    // Ending one makes room.
    subs.front().cancel();
    for (;;) {
      auto s = co_await subs.front().next();
      if (!s) break;
    }
    auto again = co_await stats::subscribe(guest, {.interval = milliseconds(1000)});
    auto first = co_await again.next();
    EXPECT_TRUE(first.has_value());
  }());
}

// A reader that does not keep up: the agent has a window of 4 events; while
// the reader sleeps on one subscription, a second one it does read tells the
// time. The slow one then finds at most the window's worth queued, followed
// by a sample that counts the skipped ones.
// GCC 12 inlines this coroutine's frame allocation (Asio's recycling
// allocator, aligned_alloc) next to its frame's operator delete and wrongly
// reports a mismatch; the pair is Asio's own and matches.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
awaitable<void> read_slowly(client& guest, std::uint32_t window) {
  auto slow = co_await stats::subscribe(guest, {.interval = milliseconds(50)});
  auto clock = co_await stats::subscribe(guest, {.interval = milliseconds(50)});
  // 16 intervals pass while nobody reads `slow`.
  for (int i = 0; i < 16; ++i) {
    auto tick = co_await clock.next();
    EXPECT_TRUE(tick.has_value());
  }
  clock.cancel();
  std::vector<stats::sample> got;
  for (std::uint32_t i = 0; i < window + 2; ++i) {
    auto s = co_await slow.next();
    EXPECT_TRUE(s.has_value());
    if (!s) break;
    got.push_back(std::move(*s));
  }
  // The first `window` samples were sent before credit ran out; the one
  // after them carries the count of those skipped meanwhile.
  for (std::uint32_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].sequence, i + 1);
  std::uint64_t skipped = 0;
  for (std::uint32_t i = 0; i < got.size() && i < window; ++i) skipped += got[i].skipped;
  EXPECT_EQ(skipped, 0u) << "samples within the window were not skipped";
  EXPECT_GT(got.size(), window);
  if (got.size() > window) {
    EXPECT_GE(got[window].skipped, 5u);
    EXPECT_EQ(got[window].skipped_total, got[window].skipped);
    EXPECT_GE(slow.samples_skipped(), 5u);
    // Rates of the sample after the gap cover one interval, not the gap.
    EXPECT_LT(got[window].interval_ns,
              static_cast<std::uint64_t>(got[window].monotonic_ns - got[window - 1].monotonic_ns));
  }
}

#pragma GCC diagnostic pop

TEST(AStatsSubscription, SkipsSamplesForASlowReaderInsteadOfQueueingThem) {
  constexpr std::uint32_t window = 4;
  test::agent_with_client t{{"--event-window", std::to_string(window)}, {.call_timeout = 10s, .event_window = window}};
  run_for(t.ctx, read_slowly(t.guest, window));
}

TEST(AStatsSubscription, FailsWhenTheAgentGoesAwayUnlessAskedToResume) {
  test::agent_with_client t;
  run_for(t.ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(t.guest, {.interval = milliseconds(50), .auto_resume = false});
    auto first = co_await sub.next();
    EXPECT_TRUE(first.has_value());
    t.agent.stop(SIGTERM);
    bool failed = false;
    try {
      for (;;) {
        auto s = co_await sub.next();
        if (!s) break;
      }
    } catch (const error& e) {
      failed = e.is_connectivity();
    }
    EXPECT_TRUE(failed);
  }());
}

TEST(AStatsSubscription, ResumesWhenTheAgentComesBack) {
  test::agent_with_client t;
  const std::string path = t.agent.socket_path();
  pid_t second = -1;
  struct reaper {
    pid_t& pid;
    ~reaper() {
      if (pid <= 0) return;
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  } reap{second};
  run_for(t.ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(t.guest, {.interval = milliseconds(50), .auto_resume = true}, {10s});
    auto first = co_await sub.next();
    EXPECT_TRUE(first.has_value());
    t.agent.stop(SIGTERM);
    // A new agent on the same socket (as after a guest reboot). The client
    // reconnects with backoff; no readiness signal is needed.
    std::vector<std::string> args = {test::agent_binary, "--listen-unix", path, "--log-level", "warning"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&second, argv[0], nullptr, nullptr, argv.data(), environ), 0);
    // Samples of the old session may still be queued; then the new one's.
    std::optional<stats::sample> s;
    do {
      s = co_await sub.next();
      EXPECT_TRUE(s.has_value());
    } while (s && sub.resumes() == 0);
    EXPECT_EQ(sub.resumes(), 1u);
    if (s) {
      EXPECT_EQ(s->sequence, 1u);  // a new call
      EXPECT_FALSE(s->cpu.total.percent.has_value());
    }
    auto next = co_await sub.next();
    EXPECT_TRUE(next.has_value());
  }());
}

TEST(AStatsSubscription, EndsWhenCancelledWhileItResumes) {
  // The agent does not come back: the resume keeps reconnecting until its
  // connection deadline. A cancel() meanwhile (before there is a new call)
  // ends the subscription as asked, instead of failing it or leaving next()
  // on a call nobody cancels (the Python streams' close()).
  test::agent_with_client t({}, {.call_timeout = 10s});
  run_for(t.ctx, [&]() -> awaitable<void> {
    auto sub = std::make_shared<stats::subscription>(
        co_await stats::subscribe(t.guest, {.interval = milliseconds(50), .auto_resume = true}, {2s}));
    EXPECT_TRUE((co_await sub->next()).has_value());
    t.agent.stop(SIGTERM);
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, [sub]() -> awaitable<void> {
      asio::steady_timer poll(co_await asio::this_coro::executor);
      while (sub->resumes() == 0) {  // set as the resume starts reconnecting
        poll.expires_after(milliseconds(10));
        co_await poll.async_wait(asio::use_awaitable);
      }
      sub->cancel();
    }, asio::detached);
    std::optional<stats::sample> s;
    do {
      s = co_await sub->next();  // samples still queued, then the end
    } while (s);
    EXPECT_EQ(sub->resumes(), 1u);
  }());
}

long cpu_ticks(pid_t pid) { return proc::cpu_ticks(slurp("/proc/" + std::to_string(pid) + "/stat")); }

// CPU time of all threads of a process in ns (schedstat's first field is
// the scheduler's sum_exec_runtime: precise, unlike tick-based utime/stime).
std::uint64_t cpu_ns(pid_t pid) {
  std::uint64_t sum = 0;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(dir)) {
    std::istringstream in(slurp(t.path().string() + "/schedstat"));
    std::uint64_t ns = 0;
    if (in >> ns) sum += ns;
  }
  return sum;
}

// Not a benchmark with a threshold: prints what a 100 ms subscription costs
// the agent, so regressions are visible. The bound only catches a busy loop.
TEST_F(AStatsAgent, MeasuresTheAgentsCpuCostOfA100msSubscription) {
  constexpr int samples = 30;  // 3 s
  double collect_us = 0;
  long ticks = 0;
  std::uint64_t ns = 0;
  std::chrono::steady_clock::duration wall{};
  run_for(ctx, [&]() -> awaitable<void> {
    auto sub = co_await stats::subscribe(guest, {.interval = milliseconds(100), .max_samples = samples + 1});
    auto first = co_await sub.next();  // connection, collector and worker set up
    EXPECT_TRUE(first.has_value());
    const long t0 = cpu_ticks(agent.pid());
    const auto n0 = cpu_ns(agent.pid());
    const auto w0 = std::chrono::steady_clock::now();
    for (;;) {
      auto s = co_await sub.next();
      if (!s) break;
      collect_us += static_cast<double>(s->collect_ns) / 1000.0 / samples;
    }
    wall = std::chrono::steady_clock::now() - w0;
    ticks = cpu_ticks(agent.pid()) - t0;
    ns = cpu_ns(agent.pid()) - n0;
  }());
  const double secs = std::chrono::duration<double>(wall).count();
  const double cpu_s = static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double pct = 100.0 * cpu_s / secs;
  const double precise_pct = 100.0 * static_cast<double>(ns) / 1e9 / secs;
  std::printf("[ stats cost ] 100 ms subscription, %d samples in %.2f s: agent CPU %.2f%% of one core "
              "(%.2f ms per sample, from schedstat); utime+stime %.0f ms = %.2f%% (10 ms ticks); "
              "mean collect wall time %.0f us\n",
              samples, secs, precise_pct, static_cast<double>(ns) / 1e6 / samples, cpu_s * 1000, pct, collect_us);
  RecordProperty("agent_cpu_percent", std::to_string(precise_pct));
  EXPECT_LT(pct, 50.0) << "the agent looks busy-looping";
}

// --- tetherctl stats --------------------------------------------------------

using TetherctlStats = test::tetherctl_test;

TEST_F(TetherctlStats, PrintsATableOfEverySection) {
  auto r = test::run_tetherctl(sock() + "stats");
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* part : {"CPU ", "busy ", "Memory ", "Swap ", "Load ", "PSI ", "DISK", "FILESYSTEM", "INTERFACE", "lo "})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " missing in:\n" << r.out;
}

TEST_F(TetherctlStats, PrintsOneParsableJsonObject) {
  auto r = test::run_tetherctl(sock() + "stats --json");
  ASSERT_EQ(r.status, 0) << r.out;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.front(), '{');
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  v1::StatsSample s;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &s).ok()) << r.out;
  EXPECT_EQ(s.memory().total_bytes(), meminfo_bytes("MemTotal"));
  EXPECT_NE(r.out.find("\"total_bytes\""), std::string::npos);  // proto field names
  EXPECT_TRUE(s.cpu().total().has_percent());
}

TEST_F(TetherctlStats, WatchesWithOneJsonLinePerSample) {
  auto r = test::run_tetherctl("--json " + sock() + "stats --watch 100 --count 3");
  ASSERT_EQ(r.status, 0) << r.out;
  std::istringstream in(r.out);
  std::string line;
  std::uint64_t seq = 0;
  while (std::getline(in, line)) {
    v1::StatsSample s;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &s).ok()) << line;
    EXPECT_EQ(s.sequence(), ++seq);
  }
  EXPECT_EQ(seq, 3u);
}

TEST_F(TetherctlStats, RejectsBadArguments) {
  EXPECT_EQ(test::run_tetherctl(sock() + "stats --watch 10").status, 2);
  EXPECT_EQ(test::run_tetherctl(sock() + "stats --count 3").status, 2);
  EXPECT_EQ(test::run_tetherctl(sock() + "stats --bogus").status, 2);
}

TEST_F(TetherctlStats, StopsWatchingCleanlyOnSigint) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  std::vector<std::string> args = {test::tetherctl_binary, "--socket", agent.socket_path(), "stats", "--watch", "100"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  ASSERT_EQ(::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);

  // Wait until two samples were printed, then interrupt.
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto count = [&] {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find("sample #", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  while (count() < 2 && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_GE(count(), 2u) << text;
  ::kill(pid, SIGINT);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd p{pidfd, POLLIN, 0};
  const bool exited = ::poll(&p, 1, 5000) == 1;
  if (!exited) ::kill(pid, SIGKILL);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ::close(pidfd);
  ::close(out[0]);
  EXPECT_TRUE(exited) << "tetherctl did not exit within 5 s of SIGINT";
  EXPECT_TRUE(WIFEXITED(st)) << "killed by a signal instead of exiting";
  EXPECT_EQ(WEXITSTATUS(st), 0);
}

}  // namespace
}  // namespace tether
