#include "support/load_driver.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <memory>
#include <stdexcept>

#include "support/agent_process.hpp"
#include "support/proc_text.hpp"
#include "support/slurp.hpp"
#include "tether/client.hpp"
#include "tether/common/async_event.hpp"
#include "tether/exec.hpp"
#include "tether/files.hpp"
#include "tether/stats.hpp"

namespace tether::test {

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::uint64_t rss_kib(const std::string& pid) {
  return proc::kib_field(slurp("/proc/" + pid + "/status"), "VmRSS");
}

std::uint64_t open_fds() {
  return static_cast<std::uint64_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                                  std::filesystem::directory_iterator{}));
}

struct agent_slot {
  temp_dir files;
  std::unique_ptr<agent_process> agent;
  std::unique_ptr<client> guest;
  std::unique_ptr<stats::subscription> events;
};

struct run_state {
  bool measuring = false, stopping = false;
  int running = 0;  // driver and subscription loops not yet ended
  std::vector<std::uint32_t> latencies_us;
  load_report report;

  void failed(const std::string& what) {
    if (!measuring) return;  // counted only in the measured part, like the calls
    ++report.failures;
    if (report.first_failures.size() < 5) report.first_failures.push_back(what);
  }
};

// One timed call; a throw counts as a failure.
template <class Op>
awaitable<void> timed(run_state& st, std::uint64_t& count, Op op) {
  const auto start = steady::now();
  try {
    co_await op();
  } catch (const std::exception& e) {
    st.failed(e.what());
    co_return;
  }
  if (!st.measuring) co_return;
  ++count;
  ++st.report.calls;
  st.latencies_us.push_back(
      static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count()));
}

awaitable<void> drive(run_state& st, agent_slot& s, std::size_t upload_bytes, async_event& ended) {
  const std::string data(upload_bytes, 'u');
  exec::options true_cmd;
  true_cmd.argv = {"/bin/true"};
  for (std::uint64_t i = 0; !st.stopping; ++i) {
    co_await timed(st, st.report.pings, [&]() -> awaitable<void> {
      auto r = co_await s.guest->ping(std::to_string(i));
      if (r.payload != std::to_string(i)) throw std::runtime_error("ping echoed the wrong payload");
    });
    co_await timed(st, st.report.execs, [&]() -> awaitable<void> {
      auto r = co_await exec::run(*s.guest, true_cmd);
      if (r.result.exit_code != 0) throw std::runtime_error("/bin/true did not exit 0");
    });
    co_await timed(st, st.report.uploads, [&]() -> awaitable<void> {
      co_await files::upload_bytes(*s.guest, data, s.files.path() + "/upload", {.overwrite = true});
    });
  }
  --st.running;
  ended.notify_all();
}

awaitable<void> subscribe(run_state& st, agent_slot& s, async_event& ended) {
  try {
    s.events = std::make_unique<stats::subscription>(*s.guest, stats::subscribe_options{.interval = 1s});
    co_await s.events->open();
    for (;;) {
      auto sample = co_await s.events->next();
      if (!sample) break;  // cancelled at the end
      if (st.measuring) ++st.report.events;
    }
  } catch (const std::exception& e) {
    st.failed(std::string("stats subscription: ") + e.what());
  }
  --st.running;
  ended.notify_all();
}

void snapshot(const std::vector<agent_slot>& slots, std::uint64_t& rss, std::uint64_t& fds, std::uint64_t& agents) {
  rss = rss_kib("self");
  fds = open_fds();
  agents = 0;
  for (const auto& s : slots) agents += rss_kib(std::to_string(s.agent->pid()));
}

awaitable<void> run(run_state& st, std::vector<agent_slot>& slots, const load_options& opts) {
  auto ex = co_await asio::this_coro::executor;
  async_event ended(ex);
  for (auto& s : slots) {
    st.running += 2;
    asio::co_spawn(ex, drive(st, s, opts.upload_bytes, ended), asio::detached);
    asio::co_spawn(ex, subscribe(st, s, ended), asio::detached);
  }
  asio::steady_timer timer(ex);
  timer.expires_after(opts.warmup);
  co_await timer.async_wait(asio::use_awaitable);
  auto& r = st.report;
  snapshot(slots, r.rss_kib_warm, r.fds_warm, r.agents_rss_kib_warm);
  st.measuring = true;
  const auto start = steady::now();
  timer.expires_after(opts.duration);
  co_await timer.async_wait(asio::use_awaitable);
  r.seconds = std::chrono::duration<double>(steady::now() - start).count();
  snapshot(slots, r.rss_kib_end, r.fds_end, r.agents_rss_kib_end);
  st.measuring = false;
  st.stopping = true;
  for (auto& s : slots)
    if (s.events) s.events->cancel();
  while (st.running > 0) co_await ended.wait();
}

}  // namespace

void raise_fd_limit(std::uint64_t need) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) throw std::runtime_error("getrlimit(RLIMIT_NOFILE) failed");
  lim.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) throw std::runtime_error("setrlimit(RLIMIT_NOFILE) failed");
  if (lim.rlim_cur < need)
    throw std::runtime_error("RLIMIT_NOFILE hard limit " + std::to_string(lim.rlim_cur) + " is below the " +
                             std::to_string(need) + " descriptors this load needs");
}

load_report run_load(const load_options& opts) {
  // Per agent: the client's socket, the agent's readiness socket, slack for
  // calls in flight (exec pipes live in the agent, not here).
  raise_fd_limit(static_cast<std::uint64_t>(opts.agents) * 4 + 64);
  asio::io_context ctx(1);
  std::vector<agent_slot> slots(static_cast<std::size_t>(opts.agents));
  for (auto& s : slots) {
    s.agent = std::make_unique<agent_process>(std::vector<std::string>{"--files-root", s.files.path()});
    s.guest = std::make_unique<client>(ctx.get_executor(),
                                       client_options{.socket_path = s.agent->socket_path(), .call_timeout = 30s});
  }
  run_state st;
  st.report.agents = opts.agents;
  auto done = asio::co_spawn(ctx, run(st, slots, opts), asio::use_future);
  const auto limit = steady::now() + opts.warmup + opts.duration + std::chrono::seconds(120);
  while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (steady::now() > limit) throw std::runtime_error("the load run did not end within its limit");
    ctx.run_one_for(std::chrono::milliseconds(100));
  }
  done.get();
  for (auto& s : slots) s.events.reset();
  auto& lat = st.latencies_us;
  auto& r = st.report;
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    r.p50_us = lat[lat.size() / 2];
    r.p99_us = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  }
  r.calls_per_second = r.seconds > 0 ? static_cast<double>(r.calls) / r.seconds : 0;
  return r;
}

}  // namespace tether::test
