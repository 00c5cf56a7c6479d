#include "broker_rows.hpp"

#include "run_op.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>

#include "support/agent_process.hpp"
#include "support/tetherd_process.hpp"
#include "tether/client.hpp"
#include "tether/exec.hpp"

namespace tether::bench {
namespace {

using clock = std::chrono::steady_clock;


double median(std::vector<double> v) { return summarize(std::move(v)).median; }

struct medians {
  double ping_ms, exec_ms;
};

// 200 pings and 20 /bin/true on one client of `socket`.
medians measure(asio::io_context& ctx, const std::string& socket) {
  client g(ctx.get_executor(), {.socket_path = socket, .call_timeout = std::chrono::seconds(120)});
  run(ctx, g.connect({std::chrono::seconds(60)}));
  std::vector<double> p, e;
  for (int i = 0; i < 200; ++i) {
    const auto t0 = clock::now();
    run(ctx, g.ping());
    p.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  for (int i = 0; i < 20; ++i) {
    const auto t0 = clock::now();
    const auto r = run(ctx, exec::run(g, {.argv = {"/bin/true"}}));
    if (r.result.exit_code != 0) throw std::runtime_error("/bin/true failed");
    e.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  g.close();
  return {median(p), median(e)};
}

std::string versus(const std::vector<double>& broker, const std::vector<double>& direct) {
  char b[160];
  const double bm = median(broker), dm = median(direct);
  std::snprintf(b, sizeof b, "direct on the chardev, same rounds: %.3f ms; broker/direct %.2fx", dm, bm / dm);
  return b;
}

}  // namespace

std::vector<row> broker_rows(const std::string& chardev, int rounds) {
  asio::io_context ctx;
  test::temp_dir dir;
  std::vector<double> ping_b, ping_d, exec_b, exec_d;
  for (int r = 0; r < rounds; ++r) {
    // The chardev serves one host at a time: the direct client, then the broker.
    const auto direct = measure(ctx, chardev);
    ping_d.push_back(direct.ping_ms);
    exec_d.push_back(direct.exec_ms);
    test::tetherd_process broker(dir.path() + "/run", {"--guest", "vm=" + chardev});
    const auto brokered = measure(ctx, broker.socket("vm"));
    ping_b.push_back(brokered.ping_ms);
    exec_b.push_back(brokered.exec_ms);
  }
  return {{.metric = "ping through tetherd (median of 200 per round)", .unit = "ms", .tether = summarize(ping_b),
           .note = versus(ping_b, ping_d)},
          {.metric = "exec /bin/true through tetherd (median of 20 per round)", .unit = "ms",
           .tether = summarize(exec_b), .note = versus(exec_b, exec_d)}};
}

}  // namespace tether::bench
